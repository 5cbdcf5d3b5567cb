/** Whether two typed arrays share any bytes: the kernels' argument checks refuse outputs that alias inputs. */
export function overlaps(x: ArrayBufferView, y: ArrayBufferView): boolean {
  return x.buffer === y.buffer && x.byteOffset < y.byteOffset + y.byteLength && y.byteOffset < x.byteOffset + x.byteLength;
}
