// The watch stream (GET /v1/watch, text/event-stream) read with fetch() so that the Authorization
// header can be sent (EventSource cannot send headers). Every event's id is the cursor after it; a
// dropped stream resumes from the last id, so no change is missed. A 410 (cursor expired or foreign)
// starts again from now and tells the views to reload.

import { authHeaders, call } from './api.js';

export class LiveFeed {
  constructor() {
    this.listeners = new Set();
    this.stateListeners = new Set();
    this.cursor = null;
    this.state = 'connecting';
    this.controller = null;
    this.stopped = true;
    this.attempt = 0;
  }

  subscribe(listener) { this.listeners.add(listener); return () => this.listeners.delete(listener); }
  onState(listener) { this.stateListeners.add(listener); listener(this.state); return () => this.stateListeners.delete(listener); }

  start() {
    if (!this.stopped) return;
    this.stopped = false;
    this.run();
  }

  stop() {
    this.stopped = true;
    this.controller?.abort();
    this.setState('stopped');
  }

  restart() { this.stop(); this.cursor = null; this.start(); }

  setState(state) {
    if (this.state === state) return;
    this.state = state;
    for (const l of this.stateListeners) l(state);
  }

  emit(message) {
    for (const l of this.listeners) {
      try { l(message); } catch (error) { reportError(error); }
    }
  }

  async run() {
    while (!this.stopped) {
      this.controller = new AbortController();
      const signal = this.controller.signal;
      try {
        if (!this.cursor) {
          const now = await (await call('GET', '/v1/watch?timeout=0', { signal })).json();
          this.cursor = now.cursor;
          this.emit({ type: 'reset' });
        }
        const response = await fetch('/v1/watch?' + new URLSearchParams({ cursor: this.cursor }), {
          headers: authHeaders({ Accept: 'text/event-stream' }), cache: 'no-store', signal,
        });
        if (response.status === 410) { this.cursor = null; continue; }
        if (response.status === 401) { window.dispatchEvent(new CustomEvent('azkv:unauthorized')); this.stop(); return; }
        if (!response.ok || !response.body) throw new Error(`watch answered ${response.status}`);
        this.setState('live');
        this.attempt = 0;
        await this.read(response.body, signal);
      } catch (error) {
        if (this.stopped) return;
        if (error?.status === 401) { this.stop(); return; }
      }
      if (this.stopped) return;
      this.setState('reconnecting');
      this.attempt++;
      await new Promise(resolve => setTimeout(resolve, Math.min(250 * 2 ** this.attempt, 5000)));
    }
  }

  async read(body, signal) {
    const reader = body.pipeThrough(new TextDecoderStream()).getReader();
    let buffer = '';
    let event = { type: 'message', id: null, data: [] };
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += value;
        let newline;
        while ((newline = buffer.indexOf('\n')) >= 0) {
          const line = buffer.slice(0, newline).replace(/\r$/, '');
          buffer = buffer.slice(newline + 1);
          if (line === '') {
            this.dispatch(event);
            event = { type: 'message', id: null, data: [] };
          } else if (!line.startsWith(':')) {
            const colon = line.indexOf(':');
            const name = colon < 0 ? line : line.slice(0, colon);
            const val = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
            if (name === 'event') event.type = val;
            else if (name === 'id') event.id = val;
            else if (name === 'data') event.data.push(val);
          }
        }
      }
    } finally {
      if (signal.aborted) reader.cancel().catch(() => {});
    }
  }

  dispatch(event) {
    if (event.type === 'change' && event.data.length > 0) {
      const change = JSON.parse(event.data.join('\n'));
      if (event.id) this.cursor = event.id;
      this.emit({ type: 'change', change });
    } else if (event.type === 'error') {
      // The server's history no longer reaches the cursor: start again from now.
      this.cursor = null;
      this.controller?.abort();
    }
  }
}
