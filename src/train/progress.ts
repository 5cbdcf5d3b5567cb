/**
 * Training progress for a person watching: on a terminal one line redrawn in
 * place (epoch, step, loss, accuracy, images/s, ETA); otherwise (a log file,
 * CI) a plain line at most every few seconds.
 */
export interface ProgressState {
  epoch: number;
  epochs: number;
  step: number;
  steps: number;
  loss: number;
  accuracy: number;
  imagesPerSecond: number;
  /** Seconds left in the run, estimated from the pace so far. */
  eta: number;
}

export interface ProgressSink {
  update(s: ProgressState): void;
  /** A line that stays (an evaluation result, a warning). */
  line(text: string): void;
  done(): void;
}

function clock(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const pad = (x: number) => String(x).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(s % 60)}` : `${m}:${pad(s % 60)}`;
}

export function describe(s: ProgressState): string {
  return `epoch ${s.epoch + 1}/${s.epochs}  step ${s.step}/${s.steps}  loss ${s.loss.toFixed(4)}  acc ${(100 * s.accuracy).toFixed(1)}%  ${Math.round(s.imagesPerSecond)} img/s  ETA ${clock(s.eta)}`;
}

export function progressSink(stream: NodeJS.WriteStream, everySeconds = 10): ProgressSink {
  const tty = stream.isTTY === true;
  let last = 0;
  let drawn = false;
  const bar = (s: ProgressState) => {
    const width = 20;
    const filled = Math.round((width * s.step) / Math.max(1, s.steps));
    return `[${'#'.repeat(filled)}${'.'.repeat(width - filled)}]`;
  };
  return {
    update(s) {
      const now = Date.now();
      if (tty) {
        if (now - last < 100 && s.step < s.steps) return;
        last = now;
        stream.write(`\r\x1b[K${bar(s)} ${describe(s)}`);
        drawn = true;
      } else if (now - last >= everySeconds * 1000 || s.step === s.steps) {
        last = now;
        stream.write(`${describe(s)}\n`);
      }
    },
    line(text) {
      if (drawn) stream.write('\r\x1b[K');
      drawn = false;
      stream.write(`${text}\n`);
    },
    done() {
      if (drawn) stream.write('\n');
      drawn = false;
    },
  };
}

/** For library use and tests: no output. */
export const silentProgress: ProgressSink = { update() {}, line() {}, done() {} };
