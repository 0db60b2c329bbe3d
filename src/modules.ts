/**
 * The listener modules of the gateway, in start order (shutdown runs in reverse). One line each.
 */
import type { ModuleFactory } from './module.ts';

export const MODULES: ModuleFactory[] = [];
