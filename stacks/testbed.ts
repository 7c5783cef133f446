// The Pulumi side of a testbed: one dynamic resource per plan item, wired in
// the order libvirt needs (pool → network → VXLAN port → images → disks/seeds → domains),
// and the inventory as the stack output.
import * as pulumi from '@pulumi/pulumi';
import { readFileSync } from 'node:fs';
import type { Plan } from '../provision/plan/types.js';
import type { Inventory } from '../common/inventory.js';
import { inventoryFromPlan } from '../provision/testbed/inventory.js';
import { LibvirtObject } from './libvirt-provider.js';

export interface TestbedArgs {
  /** The plan, as `buildPlan` made it from the stack's topology. */
  plan: Plan;
  stack: string;
  /** Reads the client private key; the result only ever lives in a secret output. */
  readPrivateKey?: (path: string) => string;
}

export class Testbed extends pulumi.ComponentResource {
  readonly inventory: pulumi.Output<Inventory>;
  readonly privateKey: pulumi.Output<string>;
  readonly objects: LibvirtObject[] = [];

  constructor(name: string, args: TestbedArgs, opts?: pulumi.ComponentResourceOptions) {
    super('followme:testbed:Testbed', name, {}, opts);
    const { plan } = args;
    const create = (items: Parameters<Testbed['createAll']>[1], dependsOn: LibvirtObject[]) => this.createAll(plan.prefix, items, dependsOn);
    const pools = create(plan.pools, []);
    // Across hosts, each network's bridge gets its VXLAN port before any guest boots and asks for its address.
    const networks = [...create(plan.networks, pools)];
    networks.push(...create(plan.vxlans, networks));
    const images = create(
      plan.volumes.filter((v) => v.source === 'upload'),
      pools,
    );
    const disks = create(
      plan.volumes.filter((v) => v.source !== 'upload'),
      images,
    );
    create(plan.domains, [...networks, ...disks]);
    // The inventory is known from the plan; it is ready once the domains exist.
    this.inventory = pulumi.all(this.objects.map((o) => o.urn)).apply(() => inventoryFromPlan(plan, args.stack));
    const read = args.readPrivateKey ?? ((p: string) => readFileSync(p, 'utf8'));
    this.privateKey = pulumi.secret(read(plan.clientPrivateKeyPath));
    this.registerOutputs({ inventory: this.inventory, privateKey: this.privateKey });
  }

  private createAll(
    prefix: string,
    items: Plan['pools'] | Plan['networks'] | Plan['vxlans'] | Plan['volumes'] | Plan['domains'],
    dependsOn: LibvirtObject[],
  ): LibvirtObject[] {
    return items.map((item) => {
      // Resource names are libvirt's own names (+ host): unique and stable.
      const host = new URL(item.uri.replace(/^qemu(\+\w+)?:/, 'x:')).host || 'local';
      const o = new LibvirtObject(`${item.kind}-${host}-${item.name}`, { prefix, item }, { parent: this, dependsOn });
      this.objects.push(o);
      return o;
    });
  }
}
