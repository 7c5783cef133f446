// Facts of the guest image that the image builder (provision) and the
// migration engine both rely on.

/** Where each guest keeps the blank container's root file system; the engine copies it per container. */
export const CONTAINER_TEMPLATE_DIR = '/var/lib/followme/templates/blank';
