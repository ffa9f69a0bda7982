#!/usr/bin/env node
// Entry point: runs the TypeScript sources through tsx (no build step).
import { register } from 'tsx/esm/api';

register();
await import('../runtime/cli/main.ts');
