import type { LifecycleEvent } from '@tessera/protocol';
import { LIMITS } from '../config/limits.js';
import type { EventFilter, EventStore } from '../ports/index.js';

export const EXPORT_FORMATS = ['ndjson', 'csv'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

/** The CSV columns of an export, in order. */
export const CSV_COLUMNS = [
  'id',
  'at',
  'time',
  'type',
  'session',
  'user',
  'client',
  'reason',
  'data',
] as const;

/**
 * One CSV cell (RFC 4180): quoted when it holds a comma, a quote, or a line break, quotes
 * doubled. A cell that a spreadsheet would run as a formula (`=`, `+`, `-`, `@`, tab, CR first)
 * gets a leading `'`, so an exported user agent or reason cannot become a formula.
 */
export function csvCell(value: string | number | null | undefined): string {
  if (value === null || value === undefined) return '';
  let text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(e: LifecycleEvent): string {
  return [
    e.id,
    e.at,
    new Date(e.at).toISOString(),
    e.type,
    e.familyId,
    e.userId,
    e.clientId,
    e.reason,
    e.data === undefined ? null : JSON.stringify(e.data),
  ]
    .map(csvCell)
    .join(',');
}

/**
 * The lines of an export, read from the store in keyset batches of `LIMITS.eventExportBatch`
 * (by event id), one batch at a time: the consumer's pace (the HTTP stream's backpressure) sets
 * when the next is read, so memory holds one batch whatever the range. At most `max` events.
 */
export async function* exportLines(
  events: Pick<EventStore, 'list'>,
  filter: Omit<EventFilter, 'afterId' | 'limit'>,
  format: ExportFormat,
  max: number = LIMITS.eventExportMax,
): AsyncGenerator<string> {
  if (format === 'csv') yield `${CSV_COLUMNS.join(',')}\r\n`;
  let after = 0;
  let written = 0;
  const batch = LIMITS.eventExportBatch;
  while (written < max) {
    const page = await events.list({ ...filter, afterId: after, limit: Math.min(batch, max - written) });
    if (page.length === 0) return;
    yield page.map((e) => (format === 'csv' ? `${csvRow(e)}\r\n` : `${JSON.stringify(e)}\n`)).join('');
    written += page.length;
    const last = page.at(-1);
    if (!last || page.length < batch) return;
    after = last.id;
  }
}
