/** Types of a cloud environment document, exactly as the attack-surface contract defines it. */

/** A VM identifier as it appears in the environment document. */
export type VmId = string & { readonly __brand: 'VmId' };
/** A firewall rule identifier as it appears in the environment document. */
export type FwId = string & { readonly __brand: 'FwId' };

/** One virtual machine: its id, a display name and the tags firewall rules refer to. */
export interface Vm {
  readonly vm_id: VmId;
  readonly name: string;
  readonly tags: readonly string[];
}

/** A rule allowing all traffic from VMs carrying source_tag to VMs carrying dest_tag. */
export interface FwRule {
  readonly fw_id: FwId;
  readonly source_tag: string;
  readonly dest_tag: string;
}

/** A whole cloud environment: VMs and the firewall rules between their tags. */
export interface CloudEnvironment {
  readonly vms: readonly Vm[];
  readonly fw_rules: readonly FwRule[];
}
