// The Home Assistant components other modules add to the device's discovery message (the pose events'
// zones, person down, events). One per agent, created in modules.ts and handed to the modules that add
// components and to the homeassistant module, which republishes the message when the set changes.
// Like stats sections, each owner's entry comes back as a remover for its ModuleScope.

import { checkComponent, coreComponents, type HaComponent } from './discovery.js';

export class HomeAssistantComponents {
  private readonly owners = new Map<string, readonly HaComponent[]>();
  private readonly listeners = new Set<() => void>();

  /** Adds `owner`'s components (checked now: a bad or clashing key fails its module's start, with the reason). */
  add(owner: string, components: readonly HaComponent[]): () => void {
    if (this.owners.has(owner)) throw new Error(`Home Assistant components of "${owner}" are already registered`);
    const taken = new Set([...coreComponents(), ...this.list()].map((c) => c.key));
    const own = new Set<string>();
    for (const c of components) {
      checkComponent(c);
      if (taken.has(c.key) || own.has(c.key)) throw new Error(`Home Assistant component key "${c.key}" of "${owner}" is already taken`);
      own.add(c.key);
    }
    const entry = components.map((c) => ({ ...c }));
    this.owners.set(owner, entry);
    this.emit();
    return () => {
      if (this.owners.get(owner) !== entry) return;
      this.owners.delete(owner);
      this.emit();
    };
  }

  /** Every added component, in the order their owners added them. */
  list(): HaComponent[] {
    return [...this.owners.values()].flat();
  }

  /** Calls `listener` after every add or removal; returns the unsubscriber. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  private emit(): void {
    for (const l of this.listeners) l();
  }
}
