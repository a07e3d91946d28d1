/** Repository configuration: `envctl.yaml` at the repository root. */
export interface RegistryConfig {
  /** host[:port][/namespace] of the OCI distribution registry images are pushed to. */
  address: string;
  /** True when envctl starts the registry itself on 127.0.0.1 (`address: embedded` in envctl.yaml). */
  embedded: boolean;
  /** Port of the embedded registry on 127.0.0.1. */
  embeddedPort: number;
  /** Prepended to environment names: `<registry>/<prefix><name>:<revision>`. */
  prefix: string;
  /** Use http instead of https (loopback registries). */
  insecure: boolean;
}

export interface DefaultBaseConfig {
  /** Image reference every `base: default` environment builds FROM. */
  image: string;
  /** Filesystem layers of that image, used when its manifest cannot be read. */
  layers: number;
  /** How `envctl base` makes the default image when it is missing. */
  debootstrap: { suite: string; mirror: string; variant: string; packages: string[] };
}

export interface CacheConfig {
  /** False: no cache repository is read or written (each runner starts from its local storage). */
  registry: boolean;
  /** The cache repository; `{image}` stands for the environment's image name, `{environment}` for its name, e.g. `{image}/cache`. */
  repository: string;
}

export interface PolicyConfig {
  /** Environment-name patterns (`*` wildcard) that may set administrator fields. */
  administratorFields: string[];
  /** Environment-name patterns allowed each risky docker argument class. */
  privileged: string[];
  hostNetwork: string[];
  hostMounts: string[];
  /**
   * Docker flags allowed by their long name (`--runtime`): flags envctl does
   * not know or does not judge harmless, or one risky flag without its whole
   * class. Flag → environment-name patterns.
   */
  arguments: Record<string, string[]>;
}

export interface Config {
  /** Where the environment files live, relative to the repository root. */
  environmentsDir: string;
  branch: string;
  stateBranch: string;
  registry: RegistryConfig;
  defaultBase: DefaultBaseConfig;
  /** What builds images; `auto`: buildah when installed, else docker buildx. */
  builder: 'auto' | 'buildah' | 'docker';
  /** How buildah runs RUN steps: in an OCI container (runc), or a bare chroot a root step can leave. */
  isolation: 'oci' | 'chroot';
  /**
   * buildah's storage driver: overlay (native mounts as root, native or
   * fuse-overlayfs rootless), vfs (a full copy per layer, works anywhere),
   * or auto: overlay when a probe mount works, else vfs.
   */
  storage: 'auto' | 'overlay' | 'vfs';
  /** The layer cache in the registry: every build pushes its layers to `repository` and reads them back. */
  cache: CacheConfig;
  /** docker buildx: the named builder (`docker buildx create --name …`, e.g. BuildKit on Kubernetes); the current one when unset. */
  buildx: { builder?: string };
  /** Target platform, part of every content key. */
  platform: string;
  layers: { limit: number; warnAt: number };
  /** Declared layer counts of custom base images, by reference normalised as docker does (`ubuntu:noble` = `docker.io/library/ubuntu:noble`). */
  imageLayers: Record<string, number>;
  administrators: string[];
  policy: PolicyConfig;
  /** Repository URL written to the `org.opencontainers.image.source` label. */
  source?: string;
  /** Where a Pod's init container clones a project's folder from (default `source`), with what image. */
  project: { repository?: string; gitImage: string };
  /** Publishing active revisions to the hosted product; absent: nothing is published. */
  publish?: PublishConfig;
}

export interface PublishConfig {
  /** The product's origin (and path prefix), without a trailing slash. */
  url: string;
  /** The variable holding its API key. */
  tokenEnv: string;
  /** Product environment ids by envctl name, for environments not imported (imported ones carry a Product-Environment trailer). */
  environments: Record<string, string>;
}
