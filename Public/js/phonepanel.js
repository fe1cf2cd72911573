// The agent's browser station: the phone (phone.js) held for the whole sign-in, its panel on the
// desktop (connection state, Mute, input and output levels, device choice), and the ring tone
// while an offer waits for Accept. Only one window of the agent's desktop holds the phone: the
// newest takes it (as the server does), and the others say so and stay quiet.
import { api } from './api.js';
import { $, h, replaceChildren, setText } from './dom.js';
import { BrowserPhone } from './phone.js';
import { PHONE_WORDS } from './words.js';

/** A double ring (400 + 450 Hz, 0.4 s on, 0.2 s off, 0.4 s on, 2 s off), made in the page. */
class RingTone {
  constructor(phone) {
    this.phone = phone;
    this.timer = null;
  }

  start() {
    if (this.timer) return;
    const burst = (at) => {
      const context = this.phone.audioContext();
      const gain = context.createGain();
      gain.gain.value = 0.08;
      gain.connect(context.destination);
      for (const frequency of [400, 450]) {
        const oscillator = context.createOscillator();
        oscillator.frequency.value = frequency;
        oscillator.connect(gain);
        oscillator.start(context.currentTime + at);
        oscillator.stop(context.currentTime + at + 0.4);
      }
    };
    const cycle = () => {
      burst(0);
      burst(0.6);
    };
    cycle();
    this.timer = setInterval(cycle, 3000);
  }

  stop() {
    clearInterval(this.timer);
    this.timer = null;
  }
}

export class BrowserStation {
  constructor({ agentId, announce }) {
    this.announce = announce;
    this.panel = $('#phone-panel');
    this.stateLine = $('#phone-state');
    this.error = $('#phone-error');
    this.muteButton = $('#phone-mute');
    this.inputMeter = $('#phone-level');
    this.outputMeter = $('#phone-heard');
    this.inputs = $('#phone-input');
    this.outputs = $('#phone-output');
    this.phone = new BrowserPhone({
      open: (offer) => api.openPhone(offer),
      close: (location) => api.closePhone(location),
      audio: $('#phone-audio'),
    });
    window.switchboardPhone = this.phone; // the browser tests listen through it
    this.ring = new RingTone(this.phone);
    this.elsewhere = false;
    this.meters = null;
    this.phone.addEventListener('state', (event) => this.showState(event.detail));
    this.muteButton.addEventListener('click', () => this.toggleMute());
    this.inputs.addEventListener('change', () => this.phone.useInput(this.inputs.value).catch((error) => this.say(error.message)));
    this.outputs.addEventListener('change', () => this.phone.useOutput(this.outputs.value).catch((error) => this.say(error.message)));
    // The agent's other windows: whichever starts its phone last holds it.
    this.tab = Math.random().toString(36).slice(2);
    this.channel = 'BroadcastChannel' in window ? new BroadcastChannel(`switchboard-phone-${agentId}`) : null;
    this.channel?.addEventListener('message', (event) => {
      if (event.data?.took && event.data.took !== this.tab && this.phone.state !== 'off') this.yieldToAnotherWindow();
    });
    this.showState({ state: 'off' });
  }

  get connected() {
    return this.phone.state === 'connected';
  }

  /**
   * Turns the phone on: the microphone (refused: an Error with `.words`), then the session.
   * Resolves once connected; rejects if it does not connect within `within` ms.
   */
  async start(within = 15_000) {
    this.elsewhere = false;
    this.say('');
    this.panel.hidden = false;
    this.channel?.postMessage({ took: this.tab });
    if (!this.connected) await this.phone.start();
    this.fillDevices();
    if (this.connected) return;
    await new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.phone.removeEventListener('state', watch);
        reject(new Error('the phone did not connect in time (a firewall between this browser and the server?)'));
      }, within);
      const watch = (event) => {
        const { state, detail } = event.detail;
        if (state !== 'connected' && state !== 'lost') return;
        clearTimeout(timer);
        this.phone.removeEventListener('state', watch);
        if (state === 'connected') resolve();
        else reject(new Error(detail || 'the server refused the phone'));
      };
      this.phone.addEventListener('state', watch);
    });
  }

  async stop({ tellServer = true } = {}) {
    this.ring.stop();
    await this.phone.stop({ tellServer });
    this.panel.hidden = true;
  }

  yieldToAnotherWindow() {
    this.elsewhere = true;
    this.ring.stop();
    this.phone.stop({ tellServer: false });
    this.say('Your browser phone is in another window of this desktop now.');
  }

  /** Rings while an offer waits for Accept (and the phone is this window's). */
  ringing(on) {
    if (on && this.phone.state !== 'off') this.ring.start();
    else this.ring.stop();
  }

  toggleMute() {
    const muted = !this.phone.muted;
    this.phone.mute(muted);
    this.muteButton.setAttribute('aria-pressed', String(muted));
    setText(this.muteButton, muted ? 'Unmute' : 'Mute');
    this.panel.dataset.muted = String(muted);
    this.announce(muted ? 'Microphone muted: the call does not hear you.' : 'Microphone on.');
  }

  showState({ state, detail }) {
    this.panel.dataset.phone = state;
    setText(this.stateLine, PHONE_WORDS[state] ?? state);
    this.muteButton.disabled = state === 'off';
    if (state === 'lost' && detail) this.say(`The browser phone was lost: ${detail}.`);
    if (state === 'reconnecting') this.announce('Browser phone: reconnecting…');
    if (state === 'connected') this.say('');
    clearInterval(this.meters);
    this.meters = state === 'off' ? null : setInterval(() => {
      this.inputMeter.value = this.phone.muted ? 0 : this.phone.level('input');
      this.outputMeter.value = this.phone.level('output');
    }, 100);
  }

  async fillDevices() {
    try {
      const { inputs, outputs } = await this.phone.devices();
      const options = (devices, kind) => devices.map((device, index) =>
        h('option', { value: device.deviceId }, device.label || `${kind} ${index + 1}`));
      replaceChildren(this.inputs, options(inputs, 'Microphone'));
      replaceChildren(this.outputs, options(outputs, 'Speaker'));
      this.inputs.value = this.phone.inputId || inputs[0]?.deviceId || '';
      this.outputs.value = this.phone.outputId || outputs[0]?.deviceId || '';
      // Choosing the speaker needs setSinkId (not in every browser).
      $('#phone-output-field').hidden = outputs.length === 0 || !('setSinkId' in HTMLMediaElement.prototype);
    } catch {
      // Devices are a convenience: the phone works on the defaults.
    }
  }

  say(text) {
    setText(this.error, text);
  }
}
