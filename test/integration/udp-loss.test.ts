import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createInProcessLab, createNetnsLab, netnsUnavailable, type LossLab } from '../helpers/udp-lab.js';

interface Run {
  loss: number;
  repair: boolean;
  delivered: number;
  withinBudget: number;
  result: Record<string, unknown>;
}

const FRAMES = 150;
const FPS = 30;

/** One experiment: relay + publisher on side A, a viewer on side B, `loss` % dropped on B's side. */
async function experiment(lab: LossLab, loss: number, repair: boolean): Promise<Run> {
  await lab.setLoss(loss);
  const a = lab.spawnA('relay', { fps: FPS, frames: FRAMES, width: 1920, height: 1080, linger: 800 });
  const b0 = await a.event('listening');
  const b = lab.spawnB('view', { host: lab.hostA, port: Number(b0.port), frames: FRAMES, fps: FPS, nack: repair, timeout: 25 });
  try {
    await b.event('subscribed', 15_000);
    a.send('go');
    const result = await b.event('result', 40_000);
    const received = Number(result.received);
    return { loss, repair, delivered: received / FRAMES, withinBudget: Number(result.withinBudget) / FRAMES, result };
  } finally {
    a.kill();
    b.kill();
  }
}

/** A link that goes dark for 700 ms mid-stream (every frame in flight lost), then comes back. */
async function blackout(lab: LossLab): Promise<number> {
  await lab.setLoss(0);
  const a = lab.spawnA('relay', { fps: FPS, frames: FRAMES, width: 640, height: 360, linger: 800 });
  const b0 = await a.event('listening');
  const b = lab.spawnB('view', { host: lab.hostA, port: Number(b0.port), frames: FRAMES, fps: FPS, nack: true, timeout: 25 });
  try {
    await b.event('subscribed', 15_000);
    a.send('go');
    await new Promise((r) => setTimeout(r, 1500));
    await lab.setLoss(100);
    await new Promise((r) => setTimeout(r, 700));
    await lab.setLoss(0);
    const result = await b.event('result', 40_000);
    return Number(result.received);
  } finally {
    a.kill();
    b.kill();
  }
}

async function suite(lab: LossLab): Promise<void> {
  const runs: Run[] = [];
  let afterBlackout = 0;
  try {
    for (const loss of [5, 10]) for (const repair of [false, true]) runs.push(await experiment(lab, loss, repair));
    afterBlackout = await blackout(lab);
  } finally {
    lab.close();
  }
  console.log(`[${lab.method}] 700 ms blackout in a ${FRAMES}-frame stream: ${afterBlackout} frames delivered`);
  // About 21 frames fall into the dark; the rest must arrive: the relay must not wait for acks of frames that were lost.
  assert.ok(afterBlackout >= FRAMES - 40, `only ${afterBlackout} of ${FRAMES} frames around a 700 ms blackout`);
  for (const r of runs) {
    const u = (r.result.udp ?? {}) as Record<string, number>;
    console.log(
      `[${lab.method}] loss ${r.loss}% repair ${r.repair ? 'on ' : 'off'}: delivered ${(r.delivered * 100).toFixed(1)}% ` +
        `(within ${r.result.budgetMs} ms: ${(r.withinBudget * 100).toFixed(1)}%), p50 ${Number(r.result.p50Ms).toFixed(1)} ms, ` +
        `fragments lost ${u.fragmentsLost ?? '?'}, repaired by NACK ${u.repairedByNack ?? '?'}, NACKed ${u.nacked ?? '?'}, ` +
        `duplicates ${u.duplicates ?? '?'}, late ${u.fragmentsLate ?? '?'}, frames lost ${u.framesLost ?? '?'}`,
    );
  }
  const at = (loss: number, repair: boolean): Run => runs.find((r) => r.loss === loss && r.repair === repair) as Run;
  // Targets: ≥ 99 % (5 % loss) and ≥ 95 % (10 %) of frames. Delivered at all is asserted at the target;
  // delivered within the budget, measured from the capture time (which includes the publisher's hop and
  // both pacers, not only repair), with a margin of 2 frames in 100 for a loaded machine's scheduling.
  assert.ok(at(5, true).delivered >= 0.99, `5 % loss with repair: delivered ${at(5, true).delivered}`);
  assert.ok(at(10, true).delivered >= 0.95, `10 % loss with repair: delivered ${at(10, true).delivered}`);
  assert.ok(at(5, true).withinBudget >= 0.97, `5 % loss with repair: within budget ${at(5, true).withinBudget}`);
  assert.ok(at(10, true).withinBudget >= 0.93, `10 % loss with repair: within budget ${at(10, true).withinBudget}`);
  // The sender never answers a NACK for a fragment it has not sent with a copy, and repair stays bounded.
  const u5 = (at(5, true).result.udp ?? {}) as Record<string, number>;
  assert.ok((u5.repairedByNack ?? 0) > 0);
  assert.ok((u5.nacked ?? 0) <= 5 * (u5.fragmentsLost ?? 0) + 50, `NACKs ${u5.nacked} for ${u5.fragmentsLost} lost fragments`);
  assert.ok(at(5, false).delivered < at(5, true).delivered);
  assert.ok(at(10, false).delivered < at(10, true).delivered);
}

const why = netnsUnavailable();

test('UDP under real packet loss: namespaces + veth + nftables, repair off and on at 5 % and 10 %', {
  skip: why ? `skipped: ${why}` : false,
  timeout: 90_000,
}, async () => {
  await suite(createNetnsLab());
});

test('UDP under in-process loss (fallback where namespaces cannot be made)', {
  skip: why ? false : 'skipped: the namespace test ran instead',
  timeout: 90_000,
}, async () => {
  console.log(`namespaces unavailable (${why}); using the in-process lossy socket wrapper`);
  await suite(createInProcessLab());
});
