import { useState } from 'preact/hooks';
import { api } from '../api.js';
import { ConfirmDialog, type ConfirmRequest, ErrorBox, useLoad } from '../components.js';
import { age, time } from '../format.js';

const ORDER: Record<string, number> = { current: 0, active: 0, next: 1, retired: 2 };

/** Signing keys: current, next and retired, their age and what they still verify; rotate. */
export function Keys() {
  const keys = useLoad(() => api.keys(), []);
  const [confirm, setConfirm] = useState<ConfirmRequest | null>(null);
  const [done, setDone] = useState<string | null>(null);
  const items = [...(keys.data?.items ?? [])].sort(
    (a, b) => (ORDER[a.state] ?? 9) - (ORDER[b.state] ?? 9) || b.createdAt - a.createdAt,
  );
  const rotate = (ring: string) =>
    setConfirm({
      title: `Rotate the ${ring} signing keys?`,
      body: (
        <p>
          The next key becomes current and signs new tokens; the current key is retired and still verifies the
          tokens it signed until they expire; a new next key is made and published.
        </p>
      ),
      action: 'Rotate keys',
      run: (reason) => api.rotateKeys(reason, ring),
      done: (r) => {
        const out = r as { current: string; retired: string };
        setDone(`Rotated: ${out.current} is current, ${out.retired} retired.`);
        keys.reload();
      },
    });
  const rings = [...new Set(items.map((k) => k.ring ?? 'jwt'))];
  return (
    <section>
      <h1>Signing keys</h1>
      {done ? (
        <p class="notice" role="status">
          {done}
        </p>
      ) : null}
      <ErrorBox error={keys.error} />
      {rings.map((ring) => (
        <div key={ring} class="card">
          <h2>
            {ring.toUpperCase()}{' '}
            <button type="button" class="danger small" id={`rotate-${ring}`} onClick={() => rotate(ring)}>
              Rotate
            </button>
          </h2>
          <div class="table-wrap">
            <table class="keys">
              <thead>
                <tr>
                  <th>Key id</th>
                  <th>Algorithm</th>
                  <th>State</th>
                  <th>Age</th>
                  <th>Created</th>
                  <th>Retired</th>
                  <th class="num">Tokens it still verifies</th>
                  <th>Verifies until</th>
                </tr>
              </thead>
              <tbody>
                {items
                  .filter((k) => (k.ring ?? 'jwt') === ring)
                  .map((k) => (
                    <tr key={k.kid} data-state={k.state}>
                      <td>
                        <code>{k.kid}</code>
                      </td>
                      <td>{k.alg}</td>
                      <td>
                        <span class={`badge key-${k.state}`}>{k.state}</span>
                      </td>
                      <td>{age(k.ageSeconds)}</td>
                      <td>{time(k.createdAt)}</td>
                      <td>{time(k.retiredAt)}</td>
                      <td class="num">{k.verifiableTokens ?? '–'}</td>
                      <td>{k.verifiesUntil === undefined ? '–' : time(k.verifiesUntil)}</td>
                    </tr>
                  ))}
              </tbody>
            </table>
          </div>
        </div>
      ))}
      <ConfirmDialog request={confirm} close={() => setConfirm(null)} />
    </section>
  );
}
