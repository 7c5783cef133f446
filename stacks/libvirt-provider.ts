// Pulumi dynamic providers over the same libvirt driver the CLI-less runner
// uses. Pulumi serializes these functions into its state, so they reach the
// driver through a dynamic import of a file path (a plain string captured),
// not through module bindings.
import * as pulumi from '@pulumi/pulumi';
import { fileURLToPath } from 'node:url';
import type { DomainItem, NetworkItem, PlanItem, PoolItem, VolumeItem } from '../provision/plan/types.js';

const DRIVER = fileURLToPath(new URL('../provision/libvirt/driver.js', import.meta.url));

// A native import(), untouched by bundlers or test transforms, whose source
// Pulumi can serialize as is (it captures nothing).
type DriverModule = typeof import('../provision/libvirt/driver.js');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importDriver = new Function('path', 'return import(path)') as (path: string) => Promise<DriverModule>;

type Kind = PlanItem['kind'];

/** The inputs every plan resource carries: the item itself and the testbed prefix. */
export interface PlanItemInputs {
  prefix: string;
  item: PlanItem;
}

function idOf(item: PlanItem): string {
  return item.kind === 'volume' ? `${item.uri}#${item.pool}/${item.name}` : `${item.uri}#${item.name}`;
}

function makeProvider(kind: Kind): pulumi.dynamic.ResourceProvider {
  const driverPath = DRIVER;
  return {
    async create(inputs: PlanItemInputs) {
      const d = await importDriver(driverPath);
      const item = inputs.item;
      if (item.kind === 'pool') await d.ensurePool(item);
      else if (item.kind === 'network') await d.ensureNetwork(item, inputs.prefix);
      else if (item.kind === 'volume') await d.ensureVolume(item);
      else await d.ensureDomain(item, inputs.prefix);
      return { id: idOf(item), outs: inputs };
    },
    async delete(_id: string, props: PlanItemInputs) {
      const d = await importDriver(driverPath);
      const item = props.item;
      if (item.kind === 'pool') await d.deletePool(item);
      else if (item.kind === 'network') await d.deleteNetwork(item);
      else if (item.kind === 'volume') await d.deleteVolume(item);
      else await d.deleteDomain(item);
    },
    async diff(_id: string, olds: PlanItemInputs, news: PlanItemInputs) {
      // libvirt objects of this kind are replaced, not edited in place: a new
      // spec means a new object (the plan's names stay stable).
      const changed = JSON.stringify(olds.item) !== JSON.stringify(news.item) || olds.prefix !== news.prefix;
      return { changes: changed, replaces: changed ? ['item'] : [], deleteBeforeReplace: true };
    },
  } satisfies pulumi.dynamic.ResourceProvider & { kind?: Kind };
}

const providers: Record<Kind, pulumi.dynamic.ResourceProvider> = {
  pool: makeProvider('pool'),
  network: makeProvider('network'),
  volume: makeProvider('volume'),
  domain: makeProvider('domain'),
};

/** One Pulumi resource per plan item. */
export class LibvirtObject extends pulumi.dynamic.Resource {
  declare readonly item: pulumi.Output<PlanItem>;
  constructor(name: string, args: PlanItemInputs, opts?: pulumi.CustomResourceOptions) {
    super(providers[args.item.kind], name, { ...args }, opts, 'followme', `libvirt-${args.item.kind}`);
  }
}

export type { DomainItem, NetworkItem, PoolItem, VolumeItem };
