/**
 * The model zoo, by name. Layer names are part of the interface: precision
 * policies and checkpoints address them ('conv1.weight', 'fc2.bias', ...).
 */
import { OptionError } from '../errors.js';
import { Conv2d, Dropout, Flatten, Initializer, Linear, MaxPool2d, ReLU, Sequential } from './layers.js';
import type { Module, RandomContext } from './module.js';
import { resnet20 } from './resnet.js';

export type ModelName = 'mlp' | 'lenet5' | 'mnist-cnn' | 'cifarnet' | 'resnet20';
export const MODEL_NAMES: readonly ModelName[] = ['mlp', 'lenet5', 'mnist-cnn', 'cifarnet', 'resnet20'];

export interface ModelOptions {
  /** Seeds initialisation and dropout. */
  seed: number;
  /** The MLP's layer widths, input first and classes last (default 784-1000-1000-10). */
  widths?: readonly number[];
  /** The dropout probability of models that have dropout (mnist-cnn 0.5, cifarnet 0.5; the MLP none unless given). */
  dropout?: number;
}

export interface Model {
  readonly name: ModelName;
  readonly module: Module;
  /** One example's shape, [C, H, W]. */
  readonly inputShape: readonly [number, number, number];
  readonly classes: number;
  /** The seed and step that dropout draws from; the trainer advances `step`. */
  readonly rng: RandomContext;
}

function mlp(init: Initializer, rng: RandomContext, widths: readonly number[], p: number): Sequential {
  const layers: [string, Module][] = [['flatten', new Flatten()]];
  for (let i = 1; i < widths.length; i++) {
    layers.push([`fc${i}`, new Linear(init, widths[i - 1], widths[i])]);
    if (i < widths.length - 1) {
      layers.push([`relu${i}`, new ReLU()]);
      if (p > 0) layers.push([`dropout${i}`, new Dropout(p, rng, i)]);
    }
  }
  return new Sequential(layers);
}

function lenet5(init: Initializer): Sequential {
  return new Sequential([
    ['conv1', new Conv2d(init, 1, 6, 5, { padding: 2 })],
    ['pool1', new MaxPool2d(2)],
    ['relu1', new ReLU()],
    ['conv2', new Conv2d(init, 6, 16, 5)],
    ['pool2', new MaxPool2d(2)],
    ['relu2', new ReLU()],
    ['conv3', new Conv2d(init, 16, 120, 5)],
    ['relu3', new ReLU()],
    ['flatten', new Flatten()],
    ['fc1', new Linear(init, 120, 84)],
    ['relu4', new ReLU()],
    ['fc2', new Linear(init, 84, 10)],
  ]);
}

function mnistCnn(init: Initializer, rng: RandomContext, p: number): Sequential {
  return new Sequential([
    ['conv1', new Conv2d(init, 1, 32, 5, { padding: 2 })],
    ['pool1', new MaxPool2d(2)],
    ['relu1', new ReLU()],
    ['conv2', new Conv2d(init, 32, 64, 5, { padding: 2 })],
    ['pool2', new MaxPool2d(2)],
    ['relu2', new ReLU()],
    ['flatten', new Flatten()],
    ['fc1', new Linear(init, 3136, 1024)],
    ['relu3', new ReLU()],
    ['dropout', new Dropout(p, rng, 1)],
    ['fc2', new Linear(init, 1024, 10)],
  ]);
}

function cifarnet(init: Initializer, rng: RandomContext, p: number): Sequential {
  return new Sequential([
    ['conv1', new Conv2d(init, 3, 8, 5, { padding: 2 })],
    ['pool1', new MaxPool2d(2)],
    ['relu1', new ReLU()],
    ['conv2', new Conv2d(init, 8, 16, 5, { padding: 2 })],
    ['pool2', new MaxPool2d(2)],
    ['relu2', new ReLU()],
    ['flatten', new Flatten()],
    ['dropout1', new Dropout(p, rng, 1)],
    ['fc1', new Linear(init, 1024, 384)],
    ['relu3', new ReLU()],
    ['dropout2', new Dropout(p, rng, 2)],
    ['fc2', new Linear(init, 384, 192)],
    ['relu4', new ReLU()],
    ['fc3', new Linear(init, 192, 10)],
  ]);
}

export function createModel(name: ModelName | string, options: ModelOptions): Model {
  if (!(MODEL_NAMES as readonly string[]).includes(name)) {
    throw new OptionError(`unknown model '${name}'`, `use one of: ${MODEL_NAMES.join(', ')}`);
  }
  const init = new Initializer(options.seed);
  const rng: RandomContext = { seed: options.seed, step: 0 };
  switch (name as ModelName) {
    case 'mlp': {
      const widths = options.widths ?? [784, 1000, 1000, 10];
      if (widths.length < 2 || !widths.every((w) => Number.isInteger(w) && w > 0)) {
        throw new OptionError(`MLP widths [${widths.join(', ')}] are not at least two positive integers`, 'give input, hidden and output widths, e.g. 784-1000-1000-10');
      }
      const side = Math.sqrt(widths[0]);
      const inputShape: [number, number, number] = Number.isInteger(side) ? [1, side, side] : [1, 1, widths[0]];
      return { name: 'mlp', module: mlp(init, rng, widths, options.dropout ?? 0), inputShape, classes: widths[widths.length - 1], rng };
    }
    case 'lenet5':
      return { name: 'lenet5', module: lenet5(init), inputShape: [1, 28, 28], classes: 10, rng };
    case 'mnist-cnn':
      return { name: 'mnist-cnn', module: mnistCnn(init, rng, options.dropout ?? 0.5), inputShape: [1, 28, 28], classes: 10, rng };
    case 'cifarnet':
      return { name: 'cifarnet', module: cifarnet(init, rng, options.dropout ?? 0.5), inputShape: [3, 32, 32], classes: 10, rng };
    case 'resnet20':
      return { name: 'resnet20', module: resnet20(init), inputShape: [3, 32, 32], classes: 10, rng };
  }
}
