/**
 * Every error precis raises is a PrecisError: a stable `code` for programs,
 * a message that says what was wrong, and a `hint` that says what to do.
 */
export class PrecisError extends Error {
  readonly code: string;
  readonly hint: string;
  constructor(code: string, message: string, hint = '') {
    super(hint ? `${message}\n  hint: ${hint}` : message);
    this.name = 'PrecisError';
    this.code = code;
    this.hint = hint;
  }
}

/** A format spec that does not parse; `column` is the 0-based offset of the bad part. */
export class FormatSpecError extends PrecisError {
  readonly spec: string;
  readonly column: number;
  readonly reason: string;
  constructor(spec: string, column: number, reason: string, hint: string) {
    const caret = `    ${spec}\n    ${' '.repeat(Math.max(0, column))}^`;
    super('E_FORMAT_SPEC', `invalid format spec '${spec}': ${reason}\n${caret}`, hint);
    this.name = 'FormatSpecError';
    this.spec = spec;
    this.column = column;
    this.reason = reason;
  }
}

/** An option value outside what the operation accepts. */
export class OptionError extends PrecisError {
  constructor(message: string, hint: string) {
    super('E_OPTION', message, hint);
    this.name = 'OptionError';
  }
}

/** A backend or kernel that is not available; never silently replaced by another. */
export class UnsupportedError extends PrecisError {
  constructor(message: string, hint: string) {
    super('E_UNSUPPORTED', message, hint);
    this.name = 'UnsupportedError';
  }
}
