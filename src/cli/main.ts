/** The `precis` command line. */
import { PrecisError } from '../errors.js';
import { doctor } from './doctor.js';
import { FORMATS_USAGE, formatsCommand, readStdin } from './formats.js';
import { INSPECT_USAGE, inspectCommand } from './inspect.js';
import { evalCommand, TRAIN_USAGE, trainCommand } from './train.js';
import { packageVersion } from './version.js';

const USAGE = `precis — emulate low-precision arithmetic exactly

usage: precis <command> [options]

commands:
  train        train a model (precis train --help)
  eval         evaluate a checkpoint on the test set
  inspect      a run's accuracy and precision telemetry, layer by layer
  formats      number formats: list, show, encode, decode, table (precis formats help)
  doctor       backends, CPU features and threads on this machine
  help         this text
  version      the version

environment:
  PRECIS_BACKEND=js|wasm|native   choose a backend (default: the fastest that loads)
  PRECIS_THREADS=N                threads for native kernels (default: all cores)

${TRAIN_USAGE}

${INSPECT_USAGE}

${FORMATS_USAGE}`;

export async function main(argv: readonly string[]): Promise<number> {
  // `precis formats table e4m3 | head` closes the pipe early: stop quietly, as Unix tools do.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  const out = (line: string): void => { process.stdout.write(`${line}\n`); };
  const [cmd, ...rest] = argv;
  try {
    switch (cmd) {
      case 'formats': formatsCommand(rest, out, readStdin); return 0;
      case 'doctor': doctor(out); return 0;
      case 'train': {
        // The first Ctrl-C stops the run at the next step with a checkpoint; a second one kills it.
        let stop = false;
        const onSigint = () => {
          if (stop) process.exit(130);
          stop = true;
          process.stderr.write('\nstopping after this step (Ctrl-C again to kill)...\n');
        };
        process.on('SIGINT', onSigint);
        try {
          await trainCommand(rest, out, () => stop);
        } finally {
          process.off('SIGINT', onSigint);
        }
        return 0;
      }
      case 'eval': await evalCommand(rest, out); return 0;
      case 'inspect': inspectCommand(rest, out); return 0;
      case 'version': case '--version': case '-v': out(packageVersion()); return 0;
      case undefined: case 'help': case '--help': case '-h': out(USAGE); return 0;
      default:
        process.stderr.write(`precis: unknown command '${cmd}'\n\n${USAGE}\n`);
        return 2;
    }
  } catch (e) {
    if (e instanceof PrecisError) {
      process.stderr.write(`precis: error: ${e.message}\n`);
      return e.code === 'E_USAGE' ? 2 : e.code === 'E_INTERRUPTED' ? 130 : 1;
    }
    throw e;
  }
}
