// The words a prompt may use for each of COCO's 80 object classes (the classes the lite pack's
// detector knows), with plurals, and the 11 basic colour words. Hand-made tables, not a model:
// a word that is not here is not checkable, never guessed.

/** COCO's 80 classes in the detector's index order, spelled as GenEval spells them. */
export const COCO_CLASSES = [
  'person', 'bicycle', 'car', 'motorcycle', 'airplane', 'bus', 'train', 'truck', 'boat', 'traffic light',
  'fire hydrant', 'stop sign', 'parking meter', 'bench', 'bird', 'cat', 'dog', 'horse', 'sheep', 'cow',
  'elephant', 'bear', 'zebra', 'giraffe', 'backpack', 'umbrella', 'handbag', 'tie', 'suitcase', 'frisbee',
  'skis', 'snowboard', 'sports ball', 'kite', 'baseball bat', 'baseball glove', 'skateboard', 'surfboard', 'tennis racket', 'bottle',
  'wine glass', 'cup', 'fork', 'knife', 'spoon', 'bowl', 'banana', 'apple', 'sandwich', 'orange',
  'broccoli', 'carrot', 'hot dog', 'pizza', 'donut', 'cake', 'chair', 'couch', 'potted plant', 'bed',
  'dining table', 'toilet', 'tv', 'laptop', 'computer mouse', 'tv remote', 'computer keyboard', 'cell phone', 'microwave', 'oven',
  'toaster', 'sink', 'refrigerator', 'book', 'clock', 'vase', 'scissors', 'teddy bear', 'hair drier', 'toothbrush',
] as const;

export type CocoClass = (typeof COCO_CLASSES)[number];

// Other singular names per class (the class name itself is always one). Deliberately narrow: a word
// that names several things ("glass", "mouse", "plant") is left out rather than guessed.
const SYNONYMS: Partial<Record<CocoClass, string[]>> = {
  person: ['man', 'woman', 'boy', 'girl', 'child', 'kid', 'baby', 'toddler', 'guy', 'lady', 'gentleman', 'human', 'pedestrian', 'adult', 'teenager', 'player', 'skier', 'surfer', 'skateboarder', 'rider', 'soldier', 'worker', 'chef', 'doctor', 'nurse', 'farmer', 'student', 'teacher', 'businessman', 'businesswoman', 'policeman', 'policewoman', 'astronaut', 'knight', 'princess', 'prince', 'queen', 'king', 'wizard', 'witch', 'warrior', 'musician', 'dancer'],
  bicycle: ['bike', 'push bike'],
  car: ['automobile', 'sedan', 'taxi', 'cab', 'sports car', 'racecar', 'race car', 'coupe', 'hatchback', 'suv', 'jeep'],
  motorcycle: ['motorbike', 'motor bike', 'motorcycle'],
  airplane: ['aeroplane', 'plane', 'airliner', 'jet', 'jetliner', 'aircraft', 'biplane'],
  bus: ['minibus', 'school bus'],
  train: ['locomotive', 'tram', 'streetcar'],
  truck: ['lorry', 'pickup truck', 'pickup', 'fire truck', 'firetruck'],
  boat: ['ship', 'sailboat', 'canoe', 'kayak', 'yacht', 'ferry', 'rowboat', 'sailing boat', 'steamboat', 'gondola'],
  'traffic light': ['traffic signal', 'stoplight', 'stop light'],
  'fire hydrant': ['hydrant'],
  bench: ['park bench'],
  bird: ['parrot', 'pigeon', 'duck', 'seagull', 'gull', 'owl', 'eagle', 'sparrow', 'robin', 'swan', 'goose', 'crow', 'hen', 'rooster', 'chicken', 'penguin', 'flamingo', 'hummingbird', 'songbird', 'bluebird', 'hawk', 'falcon', 'peacock', 'toucan', 'pelican', 'heron', 'stork', 'finch', 'canary', 'budgie', 'cockatoo', 'macaw'],
  cat: ['kitten', 'kitty', 'tabby', 'tomcat', 'housecat'],
  dog: ['puppy', 'pup', 'doggy', 'doggo', 'hound', 'retriever', 'labrador', 'poodle', 'terrier', 'corgi', 'bulldog', 'beagle', 'dachshund', 'husky', 'chihuahua', 'pug', 'sheepdog', 'shepherd dog', 'spaniel', 'collie', 'dalmatian', 'greyhound', 'rottweiler', 'doberman', 'shiba inu'],
  horse: ['pony', 'foal', 'stallion', 'mare', 'colt'],
  sheep: ['lamb', 'ewe'],
  cow: ['cattle', 'bull', 'calf', 'ox', 'heifer'],
  elephant: ['elephant calf'],
  bear: ['polar bear', 'grizzly', 'grizzly bear', 'panda', 'panda bear'],
  backpack: ['rucksack', 'knapsack', 'back pack'],
  umbrella: ['parasol', 'brolly'],
  handbag: ['purse', 'hand bag', 'clutch bag', 'shoulder bag', 'tote bag'],
  tie: ['necktie', 'bow tie', 'bowtie'],
  suitcase: ['luggage', 'valise', 'suit case', 'trolley case'],
  frisbee: ['flying disc'],
  skis: ['ski', 'pair of skis'],
  'sports ball': ['ball', 'football', 'soccer ball', 'basketball', 'tennis ball', 'volleyball', 'beach ball', 'golf ball', 'rugby ball'],
  'baseball glove': ['baseball mitt', 'mitt'],
  skateboard: ['skate board'],
  surfboard: ['surf board'],
  'tennis racket': ['racket', 'racquet', 'tennis racquet'],
  bottle: ['water bottle', 'wine bottle', 'beer bottle'],
  'wine glass': ['wineglass', 'champagne glass', 'goblet'],
  cup: ['mug', 'teacup', 'coffee cup', 'tea cup', 'coffee mug'],
  knife: ['kitchen knife'],
  bowl: ['salad bowl', 'soup bowl'],
  sandwich: ['burger', 'hamburger', 'cheeseburger'],
  donut: ['doughnut'],
  cake: ['cupcake', 'birthday cake', 'cheesecake'],
  chair: ['armchair', 'rocking chair', 'office chair'],
  couch: ['sofa', 'settee', 'loveseat'],
  'potted plant': ['houseplant', 'house plant', 'pot plant', 'plant pot', 'flowerpot', 'flower pot', 'potted flower', 'bonsai'],
  'dining table': ['table', 'kitchen table', 'dinner table', 'coffee table'],
  tv: ['television', 'tv set', 'television set', 'monitor', 'tv monitor'],
  laptop: ['notebook computer', 'laptop computer'],
  'tv remote': ['remote', 'remote control', 'television remote'],
  'computer keyboard': ['keyboard'],
  'cell phone': ['cellphone', 'phone', 'smartphone', 'mobile phone', 'iphone'],
  microwave: ['microwave oven'],
  refrigerator: ['fridge', 'freezer'],
  book: ['novel', 'textbook', 'notebook'],
  clock: ['wall clock', 'alarm clock', 'clock tower'],
  vase: ['flower vase'],
  scissors: ['pair of scissors', 'shears'],
  'teddy bear': ['teddy', 'stuffed bear', 'plush bear'],
  'hair drier': ['hair dryer', 'hairdryer', 'blow dryer', 'blowdryer'],
  toothbrush: ['tooth brush'],
};

// Plurals English does not form with -s/-es, and words that are the same in both numbers.
const IRREGULAR_PLURALS: Record<string, string> = {
  men: 'man', women: 'woman', children: 'child', people: 'person', persons: 'person', gentlemen: 'gentleman',
  businessmen: 'businessman', businesswomen: 'businesswoman', policemen: 'policeman', policewomen: 'policewoman',
  knives: 'knife', geese: 'goose', oxen: 'ox', calves: 'calf', ponies: 'pony',
  puppies: 'puppy', kitties: 'kitty', babies: 'baby', ladies: 'lady', lorries: 'lorry', ferries: 'ferry',
  doggies: 'doggy', teddies: 'teddy', 'pairs of skis': 'pair of skis', 'pairs of scissors': 'pair of scissors',
  'wine glasses': 'wine glass', wineglasses: 'wineglass', 'champagne glasses': 'champagne glass', couches: 'couch',
  benches: 'bench', sandwiches: 'sandwich', buses: 'bus', busses: 'bus', toothbrushes: 'toothbrush', 'tooth brushes': 'tooth brush',
  minibuses: 'minibus', 'school buses': 'school bus', finches: 'finch', 'hair driers': 'hair drier',
  'hair dryers': 'hair dryer', hairdryers: 'hairdryer', tvs: 'tv', 'tv sets': 'tv set', 'tv remotes': 'tv remote', 'tv monitors': 'tv monitor',
  'sports balls': 'sports ball', 'teddy bears': 'teddy bear', 'hot dogs': 'hot dog', 'bow ties': 'bow tie', bowties: 'bowtie',
  princesses: 'princess', witches: 'witch', 'sheepdogs': 'sheepdog', 'dachshunds': 'dachshund', 'huskies': 'husky',
};
const SAME_IN_PLURAL = new Set(['sheep', 'cattle', 'luggage', 'broccoli', 'skis', 'scissors', 'shears', 'people']);

/** Words that ask for "at least this many" of a class on their own (a crowd is people). */
export const GROUP_NOUNS: Readonly<Record<string, { cocoClass: CocoClass; atLeast: number }>> = {
  crowd: { cocoClass: 'person', atLeast: 3 },
  crowds: { cocoClass: 'person', atLeast: 3 },
  family: { cocoClass: 'person', atLeast: 2 },
  couple: { cocoClass: 'person', atLeast: 2 },
  herd: { cocoClass: 'cow', atLeast: 3 },
  flock: { cocoClass: 'bird', atLeast: 3 },
};

export interface NounEntry {
  cocoClass: CocoClass;
  plural: boolean;
  /** Same spelling in both numbers ("sheep"): the count comes from the words before it. */
  ambiguousNumber: boolean;
}

function pluralOf(word: string): string {
  if (/(s|x|z|ch|sh)$/.test(word)) return `${word}es`;
  if (/[^aeiou]y$/.test(word)) return `${word.slice(0, -1)}ies`;
  return `${word}s`;
}

/** Every spelling (singular and plural, multi-word) → its class, built once. */
function buildLexicon(): Map<string, NounEntry> {
  const lexicon = new Map<string, NounEntry>();
  const irregularBySingular = new Map(Object.entries(IRREGULAR_PLURALS).map(([plural, singular]) => [singular, plural]));
  for (const cocoClass of COCO_CLASSES) {
    for (const singular of [cocoClass, ...(SYNONYMS[cocoClass] ?? [])]) {
      const same = SAME_IN_PLURAL.has(singular) || SAME_IN_PLURAL.has(singular.split(' ').pop()!);
      lexicon.set(singular, { cocoClass, plural: singular === 'people' || singular === 'cattle', ambiguousNumber: same });
      if (same) {
        // "sheeps", "broccolis": wrong, but what the writer meant is clear.
        if (!singular.endsWith('s') && !lexicon.has(`${singular}s`)) lexicon.set(`${singular}s`, { cocoClass, plural: true, ambiguousNumber: false });
        continue;
      }
      const last = singular.split(' ');
      const plural = irregularBySingular.get(singular) ?? [...last.slice(0, -1), IRREGULAR_PLURALS_LAST[last.at(-1)!] ?? pluralOf(last.at(-1)!)].join(' ');
      if (!lexicon.has(plural)) lexicon.set(plural, { cocoClass, plural: true, ambiguousNumber: false });
      // The naive "-s" plural ("benchs", "knifes") is a common misspelling, GenEval's own prompts included.
      const naive = `${singular}s`;
      if (!lexicon.has(naive)) lexicon.set(naive, { cocoClass, plural: true, ambiguousNumber: false });
    }
  }
  for (const [plural, singular] of Object.entries(IRREGULAR_PLURALS)) {
    const entry = lexicon.get(singular);
    if (entry !== undefined) lexicon.set(plural, { ...entry, plural: true, ambiguousNumber: false });
  }
  return lexicon;
}

// The last word of a multi-word name decides its plural ("fire trucks", "police women").
const IRREGULAR_PLURALS_LAST: Record<string, string> = { man: 'men', woman: 'women', child: 'children', knife: 'knives', calf: 'calves', glass: 'glasses' };

export const NOUN_LEXICON: ReadonlyMap<string, NounEntry> = buildLexicon();
/** The longest spelling in words, so the parser can try longest matches first ("teddy bear" before "bear"). */
export const MAX_NOUN_WORDS = Math.max(...[...NOUN_LEXICON.keys()].map((k) => k.split(' ').length));

/** The 11 basic colour terms (Berlin & Kay) the colour check can name. */
export const BASIC_COLOURS = ['black', 'white', 'grey', 'red', 'orange', 'yellow', 'green', 'blue', 'purple', 'pink', 'brown'] as const;
export type BasicColour = (typeof BASIC_COLOURS)[number];

/** Colour words → basic colour. "orange" is also a fruit: the parser decides by what follows it. */
export const COLOUR_WORDS: Readonly<Record<string, BasicColour>> = {
  black: 'black', white: 'white', grey: 'grey', gray: 'grey', red: 'red', orange: 'orange', yellow: 'yellow',
  green: 'green', blue: 'blue', purple: 'purple', violet: 'purple', pink: 'pink', brown: 'brown',
  crimson: 'red', scarlet: 'red', navy: 'blue', turquoise: 'blue', magenta: 'pink', lilac: 'purple', lavender: 'purple',
};
