import { PrecisError } from '../errors.js';

/** A dataset file that is missing, corrupt, truncated or not the published one; names the file. */
export class DataError extends PrecisError {
  readonly file: string;
  constructor(file: string, problem: string, hint = 'delete the file and fetch it again, or point --data-dir / PRECIS_DATA_DIR at a good copy') {
    super('E_DATA', `${file}: ${problem}`, hint);
    this.name = 'DataError';
    this.file = file;
  }
}
