// How the widget talks to the hub: JSON over fetch for the visitor API, and one WebSocket for live
// frames that reconnects with backoff and jitter. Protocol: docs/widget.md.

// An API error keeps its HTTP status, so callers can tell "retry" from "give up".
export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

// `call('POST', '/widget/v1/messages', body)`: the visitor token comes from `tokenOf()` at each
// call, because a new session replaces it. Opening a session is the one call made without it.
export function visitorApi(hub, tokenOf) {
  return async function call(method, path, body) {
    const headers = { 'Content-Type': 'application/json' };
    const token = tokenOf();
    if (token && path !== '/widget/v1/sessions') headers.Authorization = `Bearer ${token}`;
    const response = await fetch(hub + path, {
      method,
      headers,
      body: body ? JSON.stringify(body) : undefined,
    });
    if (response.status === 204) return null;
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiError(data.error?.message || response.statusText, response.status);
    return data;
  };
}

// Full jitter over an exponential ceiling: visitors cut off together do not all come back in
// the same instant (reconnect storms).
export function reconnectDelay(attempt) {
  return Math.random() * Math.min(30000, 500 * 2 ** Math.min(attempt, 10));
}

const PING_EVERY_MS = 25000;

// The live socket. `urlFor(reconnecting)` builds the address each time, so a reconnect can ask
// for what came after the last message it has. `onFrame(frame, { missed })` gets every frame;
// `missed` is true on the `ready` of a reconnect whose socket did not catch up by itself.
export class LiveSocket {
  constructor(urlFor, onFrame) {
    this.urlFor = urlFor;
    this.onFrame = onFrame;
    this.attempt = 0;
    this.socket = null;
  }

  open() {
    const { url, resumed } = this.urlFor(this.attempt > 0);
    const ws = new WebSocket(url);
    this.socket = ws;
    let pinger;
    ws.onopen = () => {
      pinger = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
    };
    ws.onmessage = (event) => {
      const frame = JSON.parse(event.data);
      const missed = frame.type === 'ready' && this.attempt > 0 && !resumed;
      if (frame.type === 'ready') this.attempt = 0;
      this.onFrame(frame, { missed });
    };
    ws.onclose = () => {
      clearInterval(pinger);
      // A socket we let go of on purpose (see `replace`) does not come back.
      if (this.socket !== ws) return;
      this.attempt += 1;
      setTimeout(() => this.open(), reconnectDelay(this.attempt));
    };
  }

  // Frames are dropped while the socket is down: typing and pings are only worth it live.
  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ v: 1, ...frame }));
    }
  }

  // Closes the socket as if the network had: it reconnects by itself, with the current token.
  drop() {
    if (this.socket) this.socket.close();
  }

  // Lets go of the socket without reconnecting; `open()` starts again (after a new session).
  release() {
    const ws = this.socket;
    this.socket = null;
    if (ws) ws.close();
  }
}
