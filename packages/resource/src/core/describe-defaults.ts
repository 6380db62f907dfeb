import { DEFAULT_TABLE } from './defaults.js';

/** The README's defaults table (option, value, reason), generated from `DEFAULT_TABLE`. */
export function renderDefaultsDocs(): string {
  const rows = Object.entries(DEFAULT_TABLE).map(([key, entry]) => {
    const spec: { value: unknown; option?: string; unit?: string; doc: string } = entry;
    const value = Array.isArray(spec.value)
      ? `\`${JSON.stringify(spec.value).replace(/"/g, "'")}\``
      : `\`${String(spec.value)}\`${spec.unit ? ` ${spec.unit}` : ''}`;
    const option = spec.option ? `\`${spec.option}\`` : 'internal';
    return `| \`${key}\` | ${option} | ${value} | ${spec.doc.replace(/\|/g, '\\|')} |`;
  });
  return `${['| default | option | value | why |', '| --- | --- | --- | --- |', ...rows].join('\n')}\n`;
}
