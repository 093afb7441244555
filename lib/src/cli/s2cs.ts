#!/usr/bin/env -S node --max-semi-space-size=32
import { runStandalone, s2csCommand } from './scistream-commands.js';

// The original SciStream's `s2cs` executable: the same command as `pilot-streaming s2cs`.
// A larger young generation (V8 semi-space, 32 MiB) means fewer scavenges per GB relayed; in our
// benchmark runs it moved the native data plane about 15-30 % faster. It must be a node flag:
// V8 sizes the heap before any script runs.
runStandalone(s2csCommand());
