// The tuxpaint-stamps-default photo cut-outs the detection fixtures use, mapped to COCO classes by hand
// (Debian package tuxpaint-stamps-default 2022.06.04-1, GPL-2; see test/fixtures/detection/LICENSE).

export interface Stamp {
  /** Path under /usr/share/tuxpaint/stamps. */
  file: string;
  cocoClass: string;
}

export const STAMPS: readonly Stamp[] = [
  { file: 'animals/mammals/dogs/dog.png', cocoClass: 'dog' },
  { file: 'animals/mammals/equines/horse.png', cocoClass: 'horse' },
  { file: 'animals/mammals/equines/zebra.png', cocoClass: 'zebra' },
  { file: 'animals/mammals/elephant.png', cocoClass: 'elephant' },
  { file: 'animals/mammals/giraffe.png', cocoClass: 'giraffe' },
  { file: 'animals/mammals/bears/bear.png', cocoClass: 'bear' },
  { file: 'animals/mammals/bovines/cow.png', cocoClass: 'cow' },
  { file: 'animals/mammals/bovines/sheep.png', cocoClass: 'sheep' },
  { file: 'animals/birds/duck.png', cocoClass: 'bird' },
  { file: 'animals/birds/pigeon.png', cocoClass: 'bird' },
  { file: 'animals/birds/seagull.png', cocoClass: 'bird' },
  { file: 'animals/mammals/bears/toys/edward_bear.png', cocoClass: 'teddy bear' },
  { file: 'food/vegetables/broccoli.png', cocoClass: 'broccoli' },
  { file: 'food/pizza.png', cocoClass: 'pizza' },
  { file: 'vehicles/auto/sedan.png', cocoClass: 'car' },
  { file: 'vehicles/auto/beetle.png', cocoClass: 'car' },
  { file: 'vehicles/auto/sportscar2.png', cocoClass: 'car' },
  { file: 'vehicles/auto/truck.png', cocoClass: 'truck' },
  { file: 'vehicles/masstransit/green_korean_bus.png', cocoClass: 'bus' },
  { file: 'vehicles/flight/planes/747.png', cocoClass: 'airplane' },
  { file: 'household/toilet.png', cocoClass: 'toilet' },
  { file: 'sports/soccer.png', cocoClass: 'sports ball' },
  { file: 'people/fireman240a.png', cocoClass: 'person' },
];
