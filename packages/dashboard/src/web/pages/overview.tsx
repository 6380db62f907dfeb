import { useEffect } from 'preact/hooks';
import { api, type Overview } from '../api.js';
import { Chart, type ChartSeries } from '../chart.js';
import { ErrorBox, isMissing, useLoad } from '../components.js';
import { age, percent, time } from '../format.js';

/** How often the overview reloads itself while open. */
const REFRESH_MS = 30_000;

const DAY_MS = 86_400_000;
const RANGES = [
  ['1 h', 3_600_000],
  ['24 h', DAY_MS],
  ['7 d', 7 * DAY_MS],
] as const;

let lastGenerated: number | undefined;

/** Tiles and charts from the server's per-minute counters (never a scan of the events). */
export function OverviewPage() {
  const range = Number(new URLSearchParams(location.hash.split('?')[1] ?? '').get('range')) || DAY_MS;
  // The default range (24 h) is the server's own; another ends at the server's "now" (asked for
  // once when unknown), not the browser's, whose clock may be off.
  const overview = useLoad(async () => {
    if (range === DAY_MS) return api.overview({});
    const now = lastGenerated ?? (await api.overview({ step: 60 })).generatedAt;
    return api.overview({ from: now - range, to: now });
  }, [range]);
  if (overview.data) lastGenerated = overview.data.generatedAt;
  useEffect(() => {
    const timer = setInterval(overview.reload, REFRESH_MS);
    return () => clearInterval(timer);
  }, [overview.reload]);
  if (isMissing(overview.error)) {
    return (
      <section>
        <h1>Overview</h1>
        <p class="muted">This server has no overview endpoint yet; the other pages work.</p>
      </section>
    );
  }
  const o = overview.data;
  return (
    <section>
      <h1>
        Overview{' '}
        <span class="ranges">
          {RANGES.map(([label, ms]) => (
            <a key={label} href={`#/?range=${ms}`} class={ms === range ? 'range active' : 'range'}>
              {label}
            </a>
          ))}
        </span>
      </h1>
      <ErrorBox error={overview.error} />
      {o ? <OverviewBody o={o} /> : null}
    </section>
  );
}

function OverviewBody({ o }: { o: Overview }) {
  const t = o.tiles;
  const s = o.series;
  return (
    <>
      <div class="tiles" id="tiles">
        <Tile label="Active sessions" value={String(t.activeSessions)} />
        <Tile label="Refresh success" value={percent(t.refreshSuccessRate)} />
        <Tile
          label="Reuse detected (24 h)"
          value={String(t.reuseDetected24h)}
          warn={t.reuseDetected24h > 0}
        />
        <Tile label="Failed logins (24 h)" value={String(t.failedLogins24h)} />
        <Tile label="Signing key age" value={age(t.signingKeyAgeSeconds)} />
        <Tile
          label="Token endpoint p95"
          value={t.tokenEndpointP95Ms === null ? '–' : `${t.tokenEndpointP95Ms.toFixed(1)} ms`}
        />
      </div>
      <p class="muted" id="range-note">
        {time(o.from)} to {time(o.to)}, {Math.round(o.stepMs / 60_000)} min per point.
      </p>
      <div class="charts">
        <Chart title="Refreshes by result" id="chart-refreshes" times={o.times} series={named(s.refreshes)} />
        <Chart title="Refresh failures by reason" times={o.times} series={named(s.failures)} />
        <Chart
          title="Grace reuses (harmless races) vs detected reuse, per client"
          id="chart-reuse"
          times={o.times}
          series={[
            ...named(s.graceReuses).map((x) => ({ ...x, label: `grace · ${x.label}` })),
            ...named(s.reuseDetected).map((x) => ({ ...x, label: `reuse · ${x.label}` })),
          ]}
        />
        <Chart title="Revocations by initiator" times={o.times} series={named(s.revocations)} />
        <Chart title="Failed logins" times={o.times} series={[{ label: 'failed', values: s.failedLogins }]} />
        <Chart
          title="Token endpoint latency (p95)"
          unit=" ms"
          counts={false}
          times={o.times}
          series={[{ label: 'p95', values: s.tokenEndpointP95Ms }]}
        />
      </div>
    </>
  );
}

function named(record: Record<string, (number | null)[]>): ChartSeries[] {
  return Object.entries(record).map(([label, values]) => ({ label, values }));
}

function Tile({ label, value, warn = false }: { label: string; value: string; warn?: boolean }) {
  return (
    <div class={`tile${warn ? ' warn' : ''}`}>
      <div class="tile-value">{value}</div>
      <div class="tile-label">{label}</div>
    </div>
  );
}
