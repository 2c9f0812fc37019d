import type { InstanceJson, InstancesJson } from '@grpcforge/runtime/vocabulary';
import { $, age, api, cell, messageOf, reloadEvery10s, say, tableBody } from './common.js';

/**
 * `/assets/instances.js`: the instances table, from `GET /api/v1/instances` (with `all=true` when *show stopped
 * instances* is ticked), every 10 s and at once when the box changes, and the note of how many are hidden.
 */

const REASONS: Readonly<Record<string, string>> = {
  queueFull: 'queue full',
  writeError: 'write error',
  storeGone: 'store gone',
};

function dropped(instance: InstanceJson) {
  const reasons = Object.entries(instance.droppedBy)
    .filter(([, rows]) => rows > 0)
    .map(([reason, rows]) => `${REASONS[reason] ?? reason} ${rows}`);
  return String(instance.rowsDropped) + (reasons.length ? ` (${reasons.join(', ')})` : '');
}

/**
 * `3 connections refused, 120 streams reset`: the defence counters that are not zero, named as `grpcforge status`
 * names them (the vocabulary's `defenceCounterWords`: this page imports types only); `-` when none is.
 */
function defences(instance: InstanceJson) {
  const counted = Object.entries(instance.defences)
    .filter(([, count]) => count > 0)
    .map(
      ([name, count]) => `${count} ${name.replace(/[A-Z]/g, (letter) => ` ${letter.toLowerCase()}`).replace(/^tls\b/, 'TLS')}`,
    );
  return counted.length ? counted.join(', ') : '-';
}

const showStopped = $('show-stopped', HTMLInputElement);

async function load() {
  try {
    const { instances, hidden } = await api<InstancesJson>(showStopped.checked ? 'instances?all=true' : 'instances');
    say('');
    $('hidden-note').textContent = hidden > 0 ? `${hidden} stopped instance${hidden === 1 ? '' : 's'} hidden` : '';
    const body = tableBody('instances');
    body.replaceChildren();
    for (const instance of instances) {
      const row = document.createElement('tr');
      row.dataset.id = instance.id;
      cell(row, instance.id);
      cell(row, instance.service);
      cell(row, instance.state).className = `state state-${instance.state}`;
      cell(row, instance.address);
      cell(row, instance.pid);
      cell(row, instance.host);
      // The server's clock: its "now" is the last heartbeat plus the heartbeat's age.
      const ran = Date.parse(instance.lastHeartbeatAt) - Date.parse(instance.startedAt);
      const running = instance.state === 'serving' || instance.state === 'unresponsive';
      cell(row, running ? age(ran + instance.heartbeatAgeMs) : `ran ${age(ran)}`);
      cell(row, age(instance.heartbeatAgeMs));
      cell(row, instance.restarts);
      cell(row, instance.services.join(', '));
      cell(row, instance.callsRecorded);
      cell(row, instance.rowsWritten);
      cell(row, dropped(instance));
      cell(row, defences(instance));
      body.append(row);
    }
    $('empty').textContent =
      hidden > 0 ? 'no instance is running' : 'no instance has registered in this store (grpcforge serve registers itself)';
    $('empty').hidden = instances.length > 0;
  } catch (error) {
    say(`cannot load the instances: ${messageOf(error)}`);
  }
}

reloadEvery10s(load, showStopped);
