// The workbench's chime, played with Web Audio: the file comes over fetch
// (the pages' connect-src), so the pages need no media-src. Browsers let a
// page make sound only after the user interacted with it; play() says
// whether it could, so that the page can tell the agent.

const CHIME_URL = '/sounds/chime.wav';
/* How long a suspended AudioContext gets to start before the chime counts as blocked. */
const RESUME_WAIT_MS = 400;

/** One chime for the page; it listens for the first interaction to unlock the sound. */
export class Chime {
  constructor() {
    this.ctx = null;
    this.buffer = null;
    this.loading = null;
    this.failed = false;
    const unlock = () => { this.unlock(); };
    for (const type of ['pointerdown', 'keydown']) document.addEventListener(type, unlock, { capture: true });
  }

  /* Inside a user's gesture: the one moment an AudioContext may start. */
  unlock() {
    const AC = window.AudioContext || window.webkitAudioContext;
    if (AC === undefined) return;
    try {
      if (this.ctx === null) this.ctx = new AC();
      if (this.ctx.state === 'suspended') this.ctx.resume().catch(() => {});
    } catch { /* no audio device: play() says so */ }
    this.load();
  }

  load() {
    if (this.buffer !== null || this.ctx === null) return Promise.resolve(this.buffer);
    if (this.loading === null) {
      this.loading = fetch(CHIME_URL, { cache: 'force-cache', credentials: 'omit' })
        .then((res) => {
          if (!res.ok) throw new Error(`${CHIME_URL}: ${res.status}`);
          return res.arrayBuffer();
        })
        .then((data) => this.ctx.decodeAudioData(data))
        .then((buffer) => {
          this.buffer = buffer;
          this.failed = false;
          return buffer;
        }, (err) => {
          this.failed = true;
          this.loading = null;
          console.warn('chat: the chime could not be loaded:', err.message || err);
          return null;
        });
    }
    return this.loading;
  }

  /** Play once: resolves to 'played', 'blocked' (no interaction yet) or 'failed'. */
  async play() {
    const activation = navigator.userActivation;
    if (this.ctx === null && activation !== undefined && !activation.hasBeenActive) return 'blocked';
    if (this.ctx === null) this.unlock();
    if (this.ctx === null) return 'failed';
    if (this.ctx.state !== 'running') {
      const wait = new Promise((resolve) => { setTimeout(resolve, RESUME_WAIT_MS); });
      await Promise.race([this.ctx.resume().catch(() => {}), wait]);
      if (this.ctx.state !== 'running') return 'blocked';
    }
    const buffer = await this.load();
    if (buffer === null) return 'failed';
    const source = this.ctx.createBufferSource();
    source.buffer = buffer;
    source.connect(this.ctx.destination);
    source.start();
    return 'played';
  }
}
