#!/usr/bin/env node
import { runStandalone, s2csCommand } from './scistream-commands.js';

// The original SciStream's `s2cs` executable: the same command as `pilot-streaming s2cs`.
runStandalone(s2csCommand());
