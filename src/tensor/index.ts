/** Tensors with define-by-run autograd, and the differentiable ops. */
export { Tensor, tensor, zeros, full, type DType, type FloatArray, type Shape } from './tensor.js';
export { backward, noGrad, isGradEnabled } from './autograd.js';
export { add, sub, mul, div, scale } from './ops/elementwise.js';
export { relu, sigmoid, tanh, gelu } from './ops/activation.js';
export { sum, mean } from './ops/reduce.js';
export { reshape, flatten, permute, transpose } from './ops/shape.js';
export { matmul, linear } from './ops/matmul.js';
export { softmax, softmaxCrossEntropy, type Labels } from './ops/loss.js';
export { conv2d, type Conv2dOptions } from './ops/conv.js';
export { maxPool2d, avgPool2d, globalAvgPool2d, type Pool2dOptions } from './ops/pool.js';
export { batchNorm, type BatchNormOptions, type RunningStats } from './ops/norm.js';
export { dropout } from './ops/dropout.js';
