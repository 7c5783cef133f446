// Facts of the guest image that the image builder (provision), the workloads
// and the migration engine all rely on.
import { underBase } from './input/remote-path.js';

/** Where each guest keeps the container templates, one root file system per workload. */
export const CONTAINER_TEMPLATES_DIR = '/var/lib/followme/templates';

/** A workload's template root file system in the guest; deploys copy it per container. */
export function containerTemplateDir(workload: string): string {
  return underBase(CONTAINER_TEMPLATES_DIR, workload);
}

/** Every template starts its service with this (the container's PID 1). */
export const CONTAINER_INIT = '/usr/local/sbin/followme-init';
