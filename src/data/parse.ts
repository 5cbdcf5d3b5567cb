/** Parsers for the dataset file formats: IDX (MNIST, Fashion-MNIST) and CIFAR-10 binary batches. */
import { DataError } from './errors.js';

export interface ImageSet {
  /** Pixel bytes, image after image, channel-major within an image (C × H × W). */
  readonly images: Uint8Array;
  readonly labels: Uint8Array;
  readonly count: number;
  readonly channels: number;
  readonly height: number;
  readonly width: number;
}

const IDX_UBYTE = 0x08;

/** An IDX file of unsigned bytes: its dimensions and data. */
export function parseIdx(bytes: Uint8Array, file: string, expectedRank: 1 | 3): { dims: number[]; data: Uint8Array } {
  if (bytes.length < 4) throw new DataError(file, `too short for an IDX header (${bytes.length} bytes)`);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const magic = view.getUint32(0);
  const type = (magic >>> 8) & 0xff;
  const rank = magic & 0xff;
  if (magic >>> 16 !== 0 || type !== IDX_UBYTE || rank !== expectedRank) {
    throw new DataError(file, `bad magic 0x${magic.toString(16).padStart(8, '0')} (expected 0x0000080${expectedRank}: unsigned bytes, rank ${expectedRank})`);
  }
  const header = 4 + 4 * rank;
  if (bytes.length < header) throw new DataError(file, `truncated header (${bytes.length} bytes)`);
  const dims: number[] = [];
  for (let i = 0; i < rank; i++) dims.push(view.getUint32(4 + 4 * i));
  const size = dims.reduce((a, b) => a * b, 1);
  if (bytes.length !== header + size) {
    throw new DataError(file, `wrong length: ${bytes.length} bytes, the header promises ${header + size} (${dims.join(' × ')})`);
  }
  return { dims, data: bytes.subarray(header) };
}

/** An images file and a labels file of the same IDX dataset. */
export function imageSetFromIdx(images: Uint8Array, labels: Uint8Array, imagesFile: string, labelsFile: string): ImageSet {
  const im = parseIdx(images, imagesFile, 3);
  const lb = parseIdx(labels, labelsFile, 1);
  if (im.dims[0] !== lb.dims[0]) {
    throw new DataError(labelsFile, `${lb.dims[0]} labels for ${im.dims[0]} images in ${imagesFile}`);
  }
  for (const l of lb.data) if (l > 9) throw new DataError(labelsFile, `label ${l} is out of range 0..9`);
  return { images: im.data, labels: lb.data, count: im.dims[0], channels: 1, height: im.dims[1], width: im.dims[2] };
}

const CIFAR_RECORD = 1 + 3 * 32 * 32;

/** CIFAR-10 binary batches: records of one label byte and 3 × 32 × 32 pixel bytes. */
export function imageSetFromCifar(batches: readonly { bytes: Uint8Array; file: string }[]): ImageSet {
  let count = 0;
  for (const b of batches) {
    if (b.bytes.length === 0 || b.bytes.length % CIFAR_RECORD !== 0) {
      throw new DataError(b.file, `wrong length: ${b.bytes.length} bytes is not a whole number of ${CIFAR_RECORD}-byte records`);
    }
    count += b.bytes.length / CIFAR_RECORD;
  }
  const images = new Uint8Array(count * (CIFAR_RECORD - 1));
  const labels = new Uint8Array(count);
  let n = 0;
  for (const b of batches) {
    for (let off = 0; off < b.bytes.length; off += CIFAR_RECORD, n++) {
      const label = b.bytes[off];
      if (label > 9) throw new DataError(b.file, `record ${off / CIFAR_RECORD}: label ${label} is out of range 0..9`);
      labels[n] = label;
      images.set(b.bytes.subarray(off + 1, off + CIFAR_RECORD), n * (CIFAR_RECORD - 1));
    }
  }
  return { images, labels, count, channels: 3, height: 32, width: 32 };
}
