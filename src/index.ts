/** precis: exact emulation of low-precision number formats. */
export { PrecisError, FormatSpecError, OptionError, UnsupportedError } from './errors.js';
export { parseFormat, parseScalarFormat, tryParseFormat, type Format } from './formats/format.js';
export { parseSpec, specToString, SPEC_GRAMMAR, type FormatSpec } from './formats/spec.js';
export { FloatFormat } from './formats/float.js';
export { FixedFormat } from './formats/fixed.js';
export { PositFormat } from './formats/posit.js';
export { BlockFormat, blockScaleExponent } from './formats/block.js';
export { ScalarFormat } from './formats/scalar.js';
export { quantize, type QuantizeOptions } from './formats/quantize.js';
export { ROUNDINGS, type Rounding } from './formats/grid.js';
export type { RoundOptions, Overflow, Subnormals } from './formats/options.js';
export { getBackend, setBackend, loadBackend, probeBackends, type BackendName, type QuantizeCounts } from './backend/index.js';
export { philox4x32, PhiloxStream } from './rng/philox.js';
export { loadDataset, type Dataset, type LoadOptions } from './data/load.js';
export { DataError } from './data/errors.js';
export { DATASET_NAMES, type DatasetName } from './data/files.js';
export type { ImageSet } from './data/parse.js';
