// The browser as a phone: one WebRTC session with the server, WHIP-style (the offer POSTed as
// application/sdp, the answer and the session's Location back, DELETE to end it). Used by the
// agent's browser station (one session for the whole sign-in, so answering a call needs no
// negotiation) and by the customer's web-call page (one session per call).
//
// It knows nothing of calls: it connects, plays what the server sends, sends the microphone,
// mutes, switches devices, measures levels, and reconnects with a fresh offer when the network
// (or the server) goes away. Its state: off → connecting → connected ⇄ reconnecting, or lost.

/** Why the microphone could not be had, in words. */
export function microphoneWords(error) {
  if (!window.isSecureContext) {
    return 'this page is not a secure context (open it over https, or on localhost): browsers only give such pages the microphone';
  }
  switch (error?.name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'the browser was not allowed to use the microphone: allow it for this site (the icon in the address bar), then try again';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'no microphone was found: plug one in, then try again';
    case 'NotReadableError':
      return 'the microphone is in use by another program, or failed';
    default:
      return `the microphone could not be opened (${error?.message ?? error})`;
  }
}

/** The frequency bins nearest `frequency`, ±`width` Hz, of an analyser's spectrum. */
function band(frequency, width, sampleRate, bins) {
  const hzPerBin = sampleRate / 2 / bins;
  return [Math.max(0, Math.floor((frequency - width) / hzPerBin)), Math.min(bins - 1, Math.ceil((frequency + width) / hzPerBin))];
}

export class BrowserPhone extends EventTarget {
  /**
   * `open(offer)` sends the offer and answers {answer, location}; `close(location)` ends the
   * session on the server; `resume(location, offer)` (optional) renegotiates the same session.
   */
  constructor({ open, close, resume, audio }) {
    super();
    this.open = open;
    this.closeOnServer = close;
    this.resume = resume;
    this.audio = audio; // the <audio> element the call's sound plays in
    this.state = 'off';
    this.location = null;
    this.pc = null;
    this.stream = null;
    this.muted = false;
    this.inputId = '';
    this.outputId = '';
    this.retry = null;
    this.retries = 0;
    this.context = null;
    this.inputAnalyser = null;
    this.outputAnalyser = null;
    this.spectrum = null; // summed power per bin of what was received, since `listen()`
    this.sampling = null;
  }

  setState(state, detail = '') {
    if (this.state === state && !detail) return;
    this.state = state;
    this.dispatchEvent(new CustomEvent('state', { detail: { state, detail } }));
  }

  /** Opens the microphone, then the session. Throws (with `.words`) when the microphone is refused. */
  async start() {
    if (this.state !== 'off' && this.state !== 'lost') return;
    this.stopped = false;
    this.setState('connecting');
    try {
      await this.openMicrophone();
    } catch (error) {
      this.setState('off');
      error.words = microphoneWords(error);
      throw error;
    }
    await this.connect();
  }

  async openMicrophone() {
    const audio = { echoCancellation: true, noiseSuppression: true, autoGainControl: true };
    if (this.inputId) audio.deviceId = { exact: this.inputId };
    if (!navigator.mediaDevices?.getUserMedia) throw Object.assign(new Error('no media devices'), { name: 'SecurityError' });
    const stream = await navigator.mediaDevices.getUserMedia({ audio, video: false });
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = stream;
    const [track] = stream.getAudioTracks();
    track.enabled = !this.muted;
    this.meterInput(stream);
  }

  /** A fresh peer connection and session; the old one (if any) is dropped. */
  async connect() {
    clearTimeout(this.retry);
    const old = this.pc;
    const pc = new RTCPeerConnection({ bundlePolicy: 'max-bundle', rtcpMuxPolicy: 'require' });
    this.pc = pc;
    old?.close();
    for (const track of this.stream.getAudioTracks()) pc.addTrack(track, this.stream);
    pc.addEventListener('track', (event) => this.play(event.streams[0] ?? new MediaStream([event.track])));
    pc.addEventListener('connectionstatechange', () => this.connectionChanged(pc));
    try {
      await pc.setLocalDescription(await pc.createOffer());
      await this.gathered(pc);
      const renegotiating = Boolean(this.location && this.resume);
      const { answer, location } = renegotiating
        ? await this.resume(this.location, pc.localDescription.sdp)
        : await this.open(pc.localDescription.sdp);
      if (this.pc !== pc) return; // replaced meanwhile
      this.location = location ?? this.location;
      await pc.setRemoteDescription({ type: 'answer', sdp: answer });
    } catch (error) {
      if (this.pc !== pc || this.stopped) return;
      this.fail(error);
    }
  }

  /** ICE candidates all in the offer (WHIP sends no trickle here); two seconds at most. */
  gathered(pc) {
    if (pc.iceGatheringState === 'complete') return Promise.resolve();
    return new Promise((resolve) => {
      const done = () => {
        if (pc.iceGatheringState !== 'complete') return;
        pc.removeEventListener('icegatheringstatechange', done);
        resolve();
      };
      pc.addEventListener('icegatheringstatechange', done);
      setTimeout(resolve, 2000);
    });
  }

  connectionChanged(pc) {
    if (this.pc !== pc || this.stopped) return;
    switch (pc.connectionState) {
      case 'connected':
        this.retries = 0;
        this.everConnected = true;
        this.setState('connected');
        break;
      case 'disconnected':
        // Often back by itself within seconds; if not, a fresh offer.
        this.setState('reconnecting');
        clearTimeout(this.retry);
        this.retry = setTimeout(() => {
          if (this.pc === pc && pc.connectionState !== 'connected') this.connect();
        }, 3000);
        break;
      case 'failed':
      case 'closed':
        this.fail(new Error(`the connection ${pc.connectionState}`));
        break;
      default:
        break;
    }
  }

  /**
   * A failed attempt. The first connection refused by the server (a closed line, a bad offer) ends
   * the phone with the server's words; later, only a 4xx does (the session or call is gone), and
   * anything else (the network, a restarting server) is tried again with a fresh offer, backing
   * off to 10 s, until stopped.
   */
  fail(error) {
    if (this.stopped) return;
    const refused = error?.status >= 400 && (!this.everConnected || error.status < 500);
    if (refused) {
      this.setState('lost', error.message ?? String(error));
      return;
    }
    this.setState('reconnecting', error?.message ?? String(error));
    if (error?.status === 409 && this.resume) this.location = null;
    this.retries += 1;
    clearTimeout(this.retry);
    this.retry = setTimeout(() => this.connect(), Math.min(10_000, 500 * 2 ** this.retries));
  }

  play(stream) {
    this.audio.srcObject = stream;
    if (this.outputId && this.audio.setSinkId) this.audio.setSinkId(this.outputId).catch(() => {});
    this.audio.play().catch(() => {}); // autoplay: allowed once the page has the microphone
    this.meterOutput(stream);
  }

  /** Ends the session (on the server too) and releases the microphone. */
  async stop({ tellServer = true } = {}) {
    this.stopped = true;
    clearTimeout(this.retry);
    const location = this.location;
    this.location = null;
    this.pc?.close();
    this.pc = null;
    this.stream?.getTracks().forEach((track) => track.stop());
    this.stream = null;
    this.audio.srcObject = null;
    clearInterval(this.sampling);
    this.sampling = null;
    this.setState('off');
    if (tellServer && location) await this.closeOnServer(location).catch(() => {});
  }

  // MARK: Mute and devices

  /** Mutes the microphone (the other party hears silence); the page shows it to the agent only. */
  mute(muted) {
    this.muted = muted;
    for (const track of this.stream?.getAudioTracks() ?? []) track.enabled = !muted;
  }

  async devices() {
    const all = await navigator.mediaDevices.enumerateDevices();
    return {
      inputs: all.filter((device) => device.kind === 'audioinput'),
      outputs: all.filter((device) => device.kind === 'audiooutput'),
    };
  }

  /** A new microphone, swapped into the session without renegotiating. */
  async useInput(deviceId) {
    this.inputId = deviceId;
    if (!this.stream) return;
    await this.openMicrophone();
    const [track] = this.stream.getAudioTracks();
    const sender = this.pc?.getSenders().find((candidate) => candidate.track?.kind === 'audio' || candidate.track === null);
    await sender?.replaceTrack(track);
  }

  async useOutput(deviceId) {
    this.outputId = deviceId;
    if (this.audio.setSinkId) await this.audio.setSinkId(deviceId);
  }

  // MARK: Levels

  audioContext() {
    if (!this.context) this.context = new AudioContext();
    if (this.context.state === 'suspended') this.context.resume().catch(() => {});
    return this.context;
  }

  meterInput(stream) {
    const context = this.audioContext();
    this.inputAnalyser = context.createAnalyser();
    this.inputAnalyser.fftSize = 1024;
    context.createMediaStreamSource(stream).connect(this.inputAnalyser);
  }

  meterOutput(stream) {
    const context = this.audioContext();
    this.outputAnalyser = context.createAnalyser();
    this.outputAnalyser.fftSize = 8192;
    this.outputAnalyser.smoothingTimeConstant = 0;
    context.createMediaStreamSource(stream).connect(this.outputAnalyser);
    this.listen();
  }

  /** 0…1: the loudness of the microphone (input) or of what is heard (output), now. */
  level(which = 'input') {
    const analyser = which === 'input' ? this.inputAnalyser : this.outputAnalyser;
    if (!analyser) return 0;
    const samples = new Float32Array(analyser.fftSize);
    analyser.getFloatTimeDomainData(samples);
    let sum = 0;
    for (const value of samples) sum += value * value;
    return Math.min(1, Math.sqrt(sum / samples.length) * 4);
  }

  /**
   * Starts (again) summing the spectrum of what is received, ten times a second: `hearing()`
   * then says how much of it lies at each frequency (the tests' ears, and the output meter's).
   */
  listen() {
    clearInterval(this.sampling);
    if (!this.outputAnalyser) return;
    const bins = this.outputAnalyser.frequencyBinCount;
    this.spectrum = new Float64Array(bins);
    this.loudness = [];
    const frame = new Float32Array(bins);
    this.sampling = setInterval(() => {
      this.loudness.push(this.level('output') / 4);
      this.outputAnalyser.getFloatFrequencyData(frame);
      for (let index = 0; index < bins; index += 1) {
        if (Number.isFinite(frame[index])) this.spectrum[index] += 10 ** (frame[index] / 10);
      }
    }, 100);
  }

  /**
   * The share of the received power since `listen()` within ±15 Hz of each frequency, and `rms`:
   * the received loudness (0…1 of full scale) averaged over the same time. Near-silence (a jitter
   * buffer's fading concealment once packets stop) scores nothing: under -50 dBFS is silence.
   */
  hearing(frequencies) {
    const rms = this.loudness?.length ? this.loudness.reduce((sum, value) => sum + value, 0) / this.loudness.length : 0;
    if (!this.spectrum || !this.outputAnalyser || rms < 0.003) {
      return { rms, ...Object.fromEntries(frequencies.map((frequency) => [frequency, 0])) };
    }
    const rate = this.outputAnalyser.context.sampleRate;
    // Speech band only: 100 Hz to 3.4 kHz (what G.711 carries).
    const [low, high] = [band(100, 0, rate, this.spectrum.length)[0], band(3400, 0, rate, this.spectrum.length)[1]];
    let total = 0;
    for (let index = low; index <= high; index += 1) total += this.spectrum[index];
    const scores = {};
    for (const frequency of frequencies) {
      const [from, to] = band(frequency, 15, rate, this.spectrum.length);
      let power = 0;
      for (let index = from; index <= to; index += 1) power += this.spectrum[index];
      scores[frequency] = total > 0 ? power / total : 0;
    }
    return { rms, ...scores };
  }
}
