// The console's live connection: one WebSocket to /api/v1/ws that resumes where it left off.
// It reconnects by itself with exponential backoff and full jitter (so a restarted server is not
// hit by every console at the same instant), and tells the page what state it is in.

const PING_EVERY_MS = 20_000;
const BACKOFF_BASE_MS = 500;
const BACKOFF_MAX_MS = 30_000;

export class Live {
  constructor({ token, onEvent, onFrame, onState, onResync }) {
    this.token = token;
    this.onEvent = onEvent;
    this.onFrame = onFrame;
    this.onState = onState;
    this.onResync = onResync;
    this.lastSeq = null;
    this.attempt = 0;
    this.closed = false;
    this.presence = 'online';
  }

  start() {
    this.connect();
  }

  stop() {
    this.closed = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.pingTimer);
    if (this.socket) this.socket.close();
  }

  connect() {
    if (this.closed) return;
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const after = this.lastSeq === null ? '' : `&after=${this.lastSeq}`;
    this.onState(this.attempt ? 'reconnecting' : 'connecting');
    const socket = new WebSocket(
      `${scheme}://${location.host}/api/v1/ws?token=${encodeURIComponent(this.token)}${after}`,
    );
    this.socket = socket;
    socket.onmessage = (m) => this.receive(JSON.parse(m.data));
    socket.onclose = () => {
      clearInterval(this.pingTimer);
      if (this.socket !== socket || this.closed) return;
      this.retry();
    };
  }

  retry() {
    this.attempt += 1;
    const ceiling = Math.min(BACKOFF_MAX_MS, BACKOFF_BASE_MS * 2 ** Math.min(this.attempt, 10));
    const wait = Math.round(Math.random() * ceiling);
    this.onState('offline', wait);
    this.retryTimer = setTimeout(() => this.connect(), wait);
  }

  receive(frame) {
    switch (frame.type) {
      case 'ready':
        // A fresh console starts from now; a resuming one was just replayed what it missed.
        if (this.lastSeq === null) this.lastSeq = frame.last_seq;
        this.attempt = 0;
        this.onState('live');
        this.send({ type: 'presence', status: this.presence });
        clearInterval(this.pingTimer);
        this.pingTimer = setInterval(() => this.send({ type: 'ping' }), PING_EVERY_MS);
        break;
      case 'event':
        if (this.lastSeq !== null && frame.event.seq <= this.lastSeq) return;
        this.lastSeq = frame.event.seq;
        this.onEvent(frame.event);
        break;
      case 'resync':
        // Too far behind to replay: reload state, then follow from now.
        this.lastSeq = null;
        this.onResync();
        break;
      default:
        this.onFrame(frame);
    }
  }

  send(frame) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify({ v: 1, ...frame }));
    }
  }

  setPresence(status) {
    this.presence = status;
    this.send({ type: 'presence', status });
  }
}
