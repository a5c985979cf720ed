// Cluster: regions, nodes, partitions (owner, epoch, LSN) and replication lag per source region,
// from GET /v1/cluster, refreshed every two seconds while the page is open.

import { h, replace } from './dom.js';
import { json } from './api.js';

const RefreshMs = 2000;

export class ClusterView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
  }

  async mount() {
    this.body = h('div');
    this.updated = h('p', { class: 'muted', role: 'status', 'aria-live': 'off' });
    replace(this.root, h('h1', null, 'Cluster'), this.updated, this.body);
    await this.load();
    this.timer = setInterval(() => this.load().catch(err => this.app.fail(err)), RefreshMs);
  }

  unmount() { clearInterval(this.timer); this.unmounted = true; }

  async load() {
    const c = await json('/v1/cluster');
    if (this.unmounted) return;
    this.updated.textContent = `Updated ${new Date().toLocaleTimeString()} from node ${c.nodeId} (refreshes every ${RefreshMs / 1000} s).`;
    const serving = c.partitions.filter(p => p.serving).length;
    replace(this.body,
      h('section', { class: 'panel', 'aria-labelledby': 'region-title' },
        h('h2', { id: 'region-title' }, 'Region ', h('span', { 'data-testid': 'region' }, c.region)),
        h('p', null, `${c.nodes.length} node${c.nodes.length === 1 ? '' : 's'}, ${c.partitionCount} partitions, ${serving} served.`)),
      table('Nodes', ['Node', 'Endpoint', 'Roles'], c.nodes.map(n => [n.nodeId, n.endpoint, (n.roles ?? []).join(', ')])),
      table('Replication (per source region)', ['Source region', 'Lag', 'Caught up', 'Paused', 'Partitions', 'Last error'],
        (c.replication ?? []).map(r => [r.region, r.lagMilliseconds === null ? 'behind (nothing applied yet)' : `${r.lagMilliseconds} ms`,
          r.caughtUp ? 'yes' : 'no', r.paused ? 'yes' : 'no', String(r.partitions ?? ''), r.lastError ?? '']),
        'No other regions replicate into this one (no peers).'),
      table('Partitions', ['Partition', 'Owner', 'Epoch', 'LSN', 'Serving'],
        c.partitions.map(p => [String(p.id), p.owner ?? '(none)', String(p.epoch), String(p.lsn), p.serving ? 'yes' : 'no'])));
  }

  onLive() { /* cluster state is polled */ }
}

function table(title, columns, rows, empty) {
  const id = 't-' + title.toLowerCase().replace(/[^a-z]+/g, '-');
  return h('section', { class: 'panel', 'aria-labelledby': id },
    h('h2', { id }, title),
    rows.length === 0 ? h('p', { class: 'muted' }, empty ?? 'None.') :
      h('div', { class: 'table-wrap' }, h('table', null,
        h('thead', null, h('tr', null, columns.map(c => h('th', { scope: 'col' }, c)))),
        h('tbody', null, rows.map(r => h('tr', null, r.map((v, i) => i === 0 ? h('th', { scope: 'row' }, v) : h('td', null, v))))))));
}
