/**
 * The dataset files precis knows, by their canonical names, with the SHA-256
 * of their official contents. MNIST and Fashion-MNIST are checked as the
 * published .gz files; CIFAR-10 batches as the .bin files inside the official
 * archive (so a batch may be stored as .bin or as a gzip of it).
 */
export type DatasetName = 'mnist' | 'fashion-mnist' | 'cifar10';
export const DATASET_NAMES: readonly DatasetName[] = ['mnist', 'fashion-mnist', 'cifar10'];

export interface DatasetFile {
  /** Canonical file name (the name inside the dataset's directory). */
  readonly name: string;
  /** SHA-256 (hex) of the file as published (IDX: the .gz file; CIFAR: the uncompressed .bin). */
  readonly sha256: string;
  /** Whether the checksum is of the gzip file itself (official IDX) or of its uncompressed contents (CIFAR, the sample). */
  readonly hashOf: 'file' | 'contents';
}

export interface DatasetInfo {
  readonly name: DatasetName;
  /** Directory name under a data directory. */
  readonly dir: string;
  readonly train: readonly DatasetFile[];
  readonly test: readonly DatasetFile[];
}

const idx = (name: string, sha256: string): DatasetFile => ({ name, sha256, hashOf: 'file' });
const bin = (name: string, sha256: string): DatasetFile => ({ name, sha256, hashOf: 'contents' });

/**
 * The MNIST sample bundled with precis (data/sample/mnist, built by
 * scripts/make-sample.mjs): the first 4000 training and 1000 test images of
 * the official files, checked by the SHA-256 of the uncompressed IDX files.
 */
export const MNIST_SAMPLE: DatasetInfo = {
  name: 'mnist',
  dir: 'data/sample/mnist',
  train: [
    bin('train-images-idx3-ubyte', 'b3358b9a61a251a81c68ae570ea2d92d118ac42c2c0af55cc2f275960da94cc4'),
    bin('train-labels-idx1-ubyte', '2f27f08fa71eec1104defc563b61fcb2d9269d71a38c1898c9e4b6ce4f255449'),
  ],
  test: [
    bin('t10k-images-idx3-ubyte', 'de7c252b04f05e1f8309634180ccdf286dc6dbac8c579b74e76e02ae0331ca52'),
    bin('t10k-labels-idx1-ubyte', '832c0d20f0dc42e575488c75a83a970787d4c8d4d05831b2ef03701b4a478a90'),
  ],
};

export const DATASETS: Record<DatasetName, DatasetInfo> = {
  mnist: {
    name: 'mnist',
    dir: 'mnist',
    train: [
      idx('train-images-idx3-ubyte.gz', '440fcabf73cc546fa21475e81ea370265605f56be210a4024d2ca8f203523609'),
      idx('train-labels-idx1-ubyte.gz', '3552534a0a558bbed6aed32b30c495cca23d567ec52cac8be1a0730e8010255c'),
    ],
    test: [
      idx('t10k-images-idx3-ubyte.gz', '8d422c7b0a1c1c79245a5bcf07fe86e33eeafee792b84584aec276f5a2dbc4e6'),
      idx('t10k-labels-idx1-ubyte.gz', 'f7ae60f92e00ec6debd23a6088c31dbd2371eca3ffa0defaefb259924204aec6'),
    ],
  },
  'fashion-mnist': {
    name: 'fashion-mnist',
    dir: 'fashion-mnist',
    train: [
      idx('train-images-idx3-ubyte.gz', '3aede38d61863908ad78613f6a32ed271626dd12800ba2636569512369268a84'),
      idx('train-labels-idx1-ubyte.gz', 'a04f17134ac03560a47e3764e11b92fc97de4d1bfaf8ba1a3aa29af54cc90845'),
    ],
    test: [
      idx('t10k-images-idx3-ubyte.gz', '346e55b948d973a97e58d2351dde16a484bd415d4595297633bb08f03db6a073'),
      idx('t10k-labels-idx1-ubyte.gz', '67da17c76eaffca5446c3361aaab5c3cd6d1c2608764d35dfb1850b086bf8dd5'),
    ],
  },
  cifar10: {
    name: 'cifar10',
    dir: 'cifar-10',
    train: [
      bin('data_batch_1.bin', 'cee916563c9f80d84e3cc88e17fdc0941787f1244f00a67874d45b261883ada5'),
      bin('data_batch_2.bin', 'a591ca11fa1708a91ee40f54b3da4784ccd871ecf2137de63f51ada8b3fa57ed'),
      bin('data_batch_3.bin', 'bbe8596564c0f86427f876058170b84dac6670ddf06d79402899d93ceea26f67'),
      bin('data_batch_4.bin', '014e562d6e23c72197cc727519169a60359f5eccd8945ad5a09d710285ff4e48'),
      bin('data_batch_5.bin', '755304fc0b379caeae8c14f0dac912fbc7d6cd469eb67a1029a08a39453a9add'),
    ],
    test: [bin('test_batch.bin', '8e2eb146ae340b09e24670f29cabc6326dba54da8789dab6768acf480273f65b')],
  },
};
