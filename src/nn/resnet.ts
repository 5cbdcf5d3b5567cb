/**
 * ResNet-20 for CIFAR-10 (He et al., 2016, section 4.2): a 3×3 stem, three
 * stages of three basic blocks (16, 32, 64 channels), global average pooling
 * and one fully connected layer; 0.27M parameters. Where a stage halves the
 * image and doubles the channels, the shortcut is option A: subsample by 2
 * and pad the new channels with zeros (parameter-free, as in the paper).
 */
import { accumulateGrad, opResult } from '../tensor/autograd.js';
import { relu } from '../tensor/ops/activation.js';
import { add } from '../tensor/ops/elementwise.js';
import { alloc, Tensor } from '../tensor/tensor.js';
import { BatchNorm, Conv2d, Flatten, GlobalAvgPool2d, Initializer, Linear, ReLU, Sequential } from './layers.js';
import { Module } from './module.js';

/** x[:, :, ::2, ::2] with `pad` zero channels before and after: the option-A shortcut. */
export function subsamplePadChannels(x: Tensor, pad: number): Tensor {
  const [N, C, H, W] = x.shape;
  const OH = Math.ceil(H / 2);
  const OW = Math.ceil(W / 2);
  const OC = C + 2 * pad;
  const X = x.data;
  const Y = alloc(x.dtype, N * OC * OH * OW);
  const forEach = (f: (src: number, dst: number) => void) => {
    for (let n = 0; n < N; n++) {
      for (let c = 0; c < C; c++) {
        const si = (n * C + c) * H * W;
        const di = (n * OC + c + pad) * OH * OW;
        for (let h = 0; h < OH; h++) for (let w = 0; w < OW; w++) f(si + 2 * h * W + 2 * w, di + h * OW + w);
      }
    }
  };
  forEach((s, d) => (Y[d] = X[s]));
  return opResult('subsample_pad_channels', Y, [N, OC, OH, OW], [x], (g) => {
    const dX = alloc(x.dtype, x.size);
    forEach((s, d) => (dX[s] = g[d]));
    accumulateGrad(x, dX);
  });
}

class BasicBlock extends Module {
  private readonly conv1: Conv2d;
  private readonly bn1: BatchNorm;
  private readonly conv2: Conv2d;
  private readonly bn2: BatchNorm;
  private readonly pad: number;
  constructor(init: Initializer, inPlanes: number, planes: number, stride: number) {
    super();
    this.conv1 = this.addModule('conv1', new Conv2d(init, inPlanes, planes, 3, { stride, padding: 1, bias: false }));
    this.bn1 = this.addModule('bn1', new BatchNorm(init, planes));
    this.conv2 = this.addModule('conv2', new Conv2d(init, planes, planes, 3, { padding: 1, bias: false }));
    this.bn2 = this.addModule('bn2', new BatchNorm(init, planes));
    this.pad = stride !== 1 || inPlanes !== planes ? (planes - inPlanes) / 2 : -1;
  }
  forward(x: Tensor): Tensor {
    const y = this.bn2.forward(this.conv2.forward(relu(this.bn1.forward(this.conv1.forward(x)))));
    return relu(add(y, this.pad < 0 ? x : subsamplePadChannels(x, this.pad)));
  }
}

export function resnet20(init: Initializer, classes = 10): Sequential {
  const stage = (inPlanes: number, planes: number, stride: number) =>
    new Sequential([
      ['0', new BasicBlock(init, inPlanes, planes, stride)],
      ['1', new BasicBlock(init, planes, planes, 1)],
      ['2', new BasicBlock(init, planes, planes, 1)],
    ]);
  return new Sequential([
    ['conv1', new Conv2d(init, 3, 16, 3, { padding: 1, bias: false })],
    ['bn1', new BatchNorm(init, 16)],
    ['relu', new ReLU()],
    ['layer1', stage(16, 16, 1)],
    ['layer2', stage(16, 32, 2)],
    ['layer3', stage(32, 64, 2)],
    ['avgpool', new GlobalAvgPool2d()],
    ['flatten', new Flatten()],
    ['fc', new Linear(init, 64, classes)],
  ]);
}
