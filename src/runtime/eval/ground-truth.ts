// COCO keypoint ground truth (person_keypoints_*.json) read into the shape the evaluator needs.
// Only the person category is evaluated; ignore flags follow pycocotools' COCOeval._prepare for
// iouType='keypoints': a gt is ignored when it is a crowd or has no labelled keypoint.

/** Number of keypoints in the COCO person skeleton. */
export const COCO_KEYPOINTS = 17;

export interface GtImage {
  id: number;
  fileName: string;
  width: number;
  height: number;
}

export interface GtPerson {
  id: number;
  imageId: number;
  /** 17 × (x, y, v), v > 0 = labelled. */
  keypoints: Float64Array;
  /** [x, y, w, h] of the annotation's box. */
  bbox: [number, number, number, number];
  /** The annotation's segment area: decides the area range, and scales OKS. */
  area: number;
  iscrowd: boolean;
  numKeypoints: number;
  /** Never matched as a true positive; detections that match it are neither TP nor FP. */
  ignore: boolean;
}

export interface KeypointGroundTruth {
  /** Every image of the file, in file order. */
  images: GtImage[];
  /** Person annotations, in file order (COCOeval keeps this order within an image). */
  people: GtPerson[];
}

export class GroundTruthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GroundTruthError';
  }
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function finite(v: unknown, where: string): number {
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new GroundTruthError(`${where} must be a number`);
  return v;
}

/** The category whose annotations carry keypoints: "person" in every COCO keypoint file. */
function personCategoryId(categories: unknown): number | undefined {
  if (!Array.isArray(categories)) return undefined;
  const withKeypoints = categories.filter((c): c is Json => isObject(c) && Array.isArray(c.keypoints));
  if (withKeypoints.length === 0) return undefined;
  const person = withKeypoints.find((c) => c.name === 'person') ?? withKeypoints[0];
  return finite(person.id, 'categories[].id');
}

function parseImage(raw: unknown, i: number): GtImage {
  const where = `images[${i}]`;
  if (!isObject(raw)) throw new GroundTruthError(`${where} must be an object`);
  if (typeof raw.file_name !== 'string' || raw.file_name === '')
    throw new GroundTruthError(`${where}.file_name must be a non-empty string`);
  return {
    id: finite(raw.id, `${where}.id`),
    fileName: raw.file_name,
    width: typeof raw.width === 'number' ? raw.width : 0,
    height: typeof raw.height === 'number' ? raw.height : 0,
  };
}

function parsePerson(raw: Json, i: number): GtPerson {
  const where = `annotations[${i}]`;
  const kp = raw.keypoints ?? new Array(COCO_KEYPOINTS * 3).fill(0);
  if (!Array.isArray(kp) || kp.length !== COCO_KEYPOINTS * 3)
    throw new GroundTruthError(`${where}.keypoints must be an array of ${COCO_KEYPOINTS * 3} numbers`);
  const keypoints = Float64Array.from(kp, (v, j) => finite(v, `${where}.keypoints[${j}]`));
  const bb = raw.bbox;
  if (!Array.isArray(bb) || bb.length !== 4) throw new GroundTruthError(`${where}.bbox must be [x, y, w, h]`);
  const bbox = bb.map((v, j) => finite(v, `${where}.bbox[${j}]`)) as [number, number, number, number];
  let labelled = 0;
  for (let k = 0; k < COCO_KEYPOINTS; k++) if (keypoints[3 * k + 2] > 0) labelled++;
  // COCO files always carry num_keypoints; derive it for hand-made files that omit it.
  const numKeypoints = raw.num_keypoints === undefined ? labelled : finite(raw.num_keypoints, `${where}.num_keypoints`);
  const iscrowd = Boolean(raw.iscrowd);
  return {
    id: finite(raw.id, `${where}.id`),
    imageId: finite(raw.image_id, `${where}.image_id`),
    keypoints,
    bbox,
    area: finite(raw.area, `${where}.area`),
    iscrowd,
    numKeypoints,
    // COCOeval overwrites any `ignore` key in the file with iscrowd, then adds num_keypoints == 0.
    ignore: iscrowd || numKeypoints === 0,
  };
}

/** Validates a parsed COCO keypoint file. Throws GroundTruthError naming the first bad field. */
export function parseKeypointGroundTruth(data: unknown): KeypointGroundTruth {
  if (!isObject(data)) throw new GroundTruthError('ground truth must be a JSON object');
  if (!Array.isArray(data.images)) throw new GroundTruthError('ground truth has no "images" array');
  if (!Array.isArray(data.annotations)) throw new GroundTruthError('ground truth has no "annotations" array');
  const images = data.images.map(parseImage);
  const imageIds = new Set<number>();
  for (const img of images) {
    if (imageIds.has(img.id)) throw new GroundTruthError(`image id ${img.id} appears twice`);
    imageIds.add(img.id);
  }
  const personCategory = personCategoryId(data.categories);
  const people: GtPerson[] = [];
  data.annotations.forEach((raw: unknown, i: number) => {
    if (!isObject(raw)) throw new GroundTruthError(`annotations[${i}] must be an object`);
    if (personCategory !== undefined && raw.category_id !== undefined && raw.category_id !== personCategory) return;
    const person = parsePerson(raw, i);
    if (!imageIds.has(person.imageId))
      throw new GroundTruthError(`annotations[${i}].image_id ${person.imageId} is not in "images"`);
    people.push(person);
  });
  return { images, people };
}
