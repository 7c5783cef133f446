// Pulumi dynamic providers over the same libvirt driver the CLI-less runner
// uses. Pulumi serializes these functions into its state, so they reach the
// driver through a dynamic import of a file path (a plain string captured),
// not through module bindings.
import * as pulumi from '@pulumi/pulumi';
import { fileURLToPath } from 'node:url';
import type { PlanItem } from '../provision/plan/types.js';

const DRIVER = fileURLToPath(new URL('../provision/libvirt/driver.js', import.meta.url));

// A native import(), untouched by bundlers or test transforms, whose source
// Pulumi can serialize as is (it captures nothing).
type DriverModule = typeof import('../provision/libvirt/driver.js');
// eslint-disable-next-line @typescript-eslint/no-implied-eval
const importDriver = new Function('path', 'return import(path)') as (path: string) => Promise<DriverModule>;

/** The inputs every plan resource carries: the item itself and the testbed prefix. */
export interface PlanItemInputs {
  prefix: string;
  item: PlanItem;
}

function idOf(item: PlanItem): string {
  return item.kind === 'volume' ? `${item.uri}#${item.pool}/${item.name}` : `${item.uri}#${item.name}`;
}

/** True when only a network's DHCP reservations differ: libvirt updates those in place. */
function onlyHostsDiffer(olds: PlanItemInputs, news: PlanItemInputs): boolean {
  if (olds.item.kind !== 'network' || news.item.kind !== 'network' || olds.prefix !== news.prefix) return false;
  const strip = (n: PlanItem) => JSON.stringify({ ...n, hosts: [], specHash: '' });
  return strip(olds.item) === strip(news.item);
}

const driverPath = DRIVER;

/** One provider for every kind of plan item: it dispatches on the item's kind. */
export const provider: pulumi.dynamic.ResourceProvider = {
  async create(inputs: PlanItemInputs) {
    await (await importDriver(driverPath)).ensureItem(inputs.item, inputs.prefix);
    return { id: idOf(inputs.item), outs: inputs };
  },
  async update(_id: string, _olds: PlanItemInputs, news: PlanItemInputs) {
    // Reached only for networks whose reservations changed (see diff).
    const d = await importDriver(driverPath);
    if (news.item.kind === 'network') await d.ensureNetwork(news.item, news.prefix);
    return { outs: news };
  },
  async delete(_id: string, props: PlanItemInputs) {
    await (await importDriver(driverPath)).deleteItem(props.item);
  },
  async diff(_id: string, olds: PlanItemInputs, news: PlanItemInputs) {
    const changed = JSON.stringify(olds.item) !== JSON.stringify(news.item) || olds.prefix !== news.prefix;
    if (!changed) return { changes: false };
    // Reservations change in place; any other change is a new libvirt object
    // (the plan's names stay stable, so the old one goes first).
    if (onlyHostsDiffer(olds, news)) return { changes: true, replaces: [] };
    return { changes: true, replaces: ['item'], deleteBeforeReplace: true };
  },
};

/**
 * The provider of one libvirt host: the same driver, bound to the host's URI,
 * refusing an item of another host (a testbed across hosts has one per host).
 */
export function hostProvider(uri: string): pulumi.dynamic.ResourceProvider {
  const base = provider;
  const onHost = (item: PlanItem) => {
    if (item.uri !== uri) throw new Error(`${item.kind} ${item.name} is on ${item.uri}, not on this provider's host ${uri}`);
  };
  return {
    async create(inputs: PlanItemInputs) {
      onHost(inputs.item);
      return base.create!(inputs);
    },
    async update(id: string, olds: PlanItemInputs, news: PlanItemInputs) {
      onHost(news.item);
      return base.update!(id, olds, news);
    },
    async delete(id: string, props: PlanItemInputs) {
      onHost(props.item);
      return base.delete!(id, props);
    },
    diff: (id: string, olds: PlanItemInputs, news: PlanItemInputs) => base.diff!(id, olds, news),
  };
}

/** One Pulumi resource per plan item, made by its host's provider. */
export class LibvirtObject extends pulumi.dynamic.Resource {
  declare readonly item: pulumi.Output<PlanItem>;
  constructor(name: string, args: PlanItemInputs, opts: pulumi.CustomResourceOptions & { hostProvider: pulumi.dynamic.ResourceProvider }) {
    const { hostProvider: p, ...rest } = opts;
    super(p, name, { ...args }, rest, 'followme', `libvirt-${args.item.kind}`);
  }
}
