/** A uPlot time-series chart (canvas; its stylesheet is bundled into app.css, nothing inline). */
import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';

export interface ChartSeries {
  label: string;
  values: (number | null)[];
}

const stepped = uPlot.paths.stepped?.({ align: 1 });

const PALETTE = ['#2563eb', '#16a34a', '#dc2626', '#d97706', '#7c3aed', '#0891b2', '#db2777', '#4b5563'];

export function Chart({
  title,
  times,
  series,
  unit = '',
  id,
  counts = true,
}: {
  title: string;
  /** Bucket starts, ms since the epoch. */
  times: number[];
  series: ChartSeries[];
  unit?: string;
  id?: string;
  /** Counts per bucket (drawn as steps); false for a measurement such as a latency (a line). */
  counts?: boolean;
}) {
  const box = useRef<HTMLDivElement>(null);
  const key = JSON.stringify([times.length, times[0], series.map((s) => s.label)]);
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const width = Math.max(240, el.clientWidth);
    const plot = new uPlot(
      {
        width,
        height: 180,
        legend: { show: true },
        scales: { x: { time: true } },
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => `${t}${unit}`), size: 56 }],
        series: [
          {},
          ...series.map((s, i) => ({
            label: s.label,
            stroke: PALETTE[i % PALETTE.length] ?? '#4b5563',
            width: 1.5,
            points: { show: false },
            ...(counts ? { paths: stepped } : { spanGaps: true }),
          })),
        ],
      },
      [times.map((t) => t / 1000), ...series.map((s) => s.values)] as uPlot.AlignedData,
      el,
    );
    const resize = new ResizeObserver(() =>
      plot.setSize({ width: Math.max(240, el.clientWidth), height: 180 }),
    );
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [key, JSON.stringify(series.map((s) => s.values))]);
  return (
    <figure class="chart card" id={id}>
      <figcaption>{title}</figcaption>
      {series.length === 0 ? <p class="muted">Nothing in this range.</p> : <div ref={box} />}
    </figure>
  );
}
