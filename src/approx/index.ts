/** Approximate matrix products and convolutions by sampling column-row pairs (Adelman et al.). */
export { SAMPLING_METHODS, pairBudget, mixedProbabilities, crs, bernoulliCrs, topK, type SamplingMethod, type PairSample, type UniformSource } from './sampling.js';
export { createSampler, PRODUCTS, type Product, type Sampler, type SamplerSettings } from './sampler.js';
export { operand, type PairOperand } from './pairs.js';
export { sampledLinear, PASSES, type Pass } from './linear.js';
export { sampledConv2d, convInputGrad, convWeightGrad } from './conv.js';
export { MacCount, macReduction, sumMacLines, type MacTotals } from './macs.js';
export { ApproxLayer, type LayerSettings, type StepClock } from './layer.js';
export { parseApproxConfig, layerSettings, ApproxConfigError, type ApproxConfig } from './config.js';
export { applyApprox, ApproxRun, type Approximable } from './apply.js';
