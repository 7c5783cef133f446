// The Pulumi program (Pulumi.yaml → dist/stacks/index.js). It reads the
// stack's topology (stacks/Pulumi.<stack>.yaml), does the same preparation as
// `followme testbed up` (image from the cache, keys, hypervisor probe), builds
// the same plan and registers it. Readiness is left to `followme testbed
// status` / the experiment runner: Pulumi only owns the libvirt objects.
import * as pulumi from '@pulumi/pulumi';
import { validateTopology } from '../provision/topology/validate.js';
import { TOPOLOGY_KEY } from '../provision/topology/stack-config.js';
import { prepare } from '../provision/testbed/runner.js';
import { Testbed } from './testbed.js';

const stack = pulumi.getStack();
const config = new pulumi.Config('followme');
const topology = validateTopology(config.requireObject('topology'), `stacks/Pulumi.${stack}.yaml: ${TOPOLOGY_KEY}`);
const plan = await prepare({ topology, source: `stacks/Pulumi.${stack}.yaml: ${TOPOLOGY_KEY}`, stack, log: (l) => pulumi.log.info(l) });
const testbed = new Testbed(topology.prefix, { plan, stack });

export const inventory = testbed.inventory;
export const privateKey = testbed.privateKey;
