// The Pulumi side of a testbed: one dynamic resource per plan item, wired in
// the order libvirt needs (pool → network → VXLAN port → images → disks/seeds → domains),
// and the inventory as the stack output.
import * as pulumi from '@pulumi/pulumi';
import { readFileSync } from 'node:fs';
import type { Plan } from '../provision/plan/types.js';
import type { Inventory } from '../common/inventory.js';
import { inventoryFromPlan } from '../provision/testbed/inventory.js';
import { hostProvider, LibvirtObject } from './libvirt-provider.js';

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
    const bridges = create(plan.networks, pools);
    // A new array: Pulumi reads dependsOn later, and a port must not wait on itself.
    const networks = [...bridges, ...create(plan.vxlans, bridges)];
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
      const host = this.hostOf(prefix, item.uri);
      // Under its host since testbeds span hosts; the alias keeps a stack made before that (under the testbed) as it is.
      const o = new LibvirtObject(
        `${item.kind}-${host.label}-${item.name}`,
        { prefix, item },
        { parent: host, aliases: [{ parent: this }], dependsOn, hostProvider: host.provider },
      );
      this.objects.push(o);
      return o;
    });
  }

  private readonly hosts = new Map<string, TestbedHost>();

  /** The host component of `uri` (made on first use): its objects' parent, with the provider bound to it. */
  private hostOf(prefix: string, uri: string): TestbedHost {
    let h = this.hosts.get(uri);
    if (!h) {
      h = new TestbedHost(prefix, uri, { parent: this });
      this.hosts.set(uri, h);
    }
    return h;
  }
}

/** One libvirt host of a testbed: the parent of its objects, with the one provider that acts on them. */
export class TestbedHost extends pulumi.ComponentResource {
  readonly label: string;
  readonly provider: pulumi.dynamic.ResourceProvider;

  constructor(
    prefix: string,
    readonly uri: string,
    opts: pulumi.ComponentResourceOptions,
  ) {
    const label = new URL(uri.replace(/^qemu(\+\w+)?:/, 'x:')).host || 'local';
    super('followme:testbed:Host', `${prefix}-${label}`, { uri }, opts);
    this.label = label;
    this.provider = hostProvider(uri);
    this.registerOutputs({ uri });
  }
}
