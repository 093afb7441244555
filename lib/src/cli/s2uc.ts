#!/usr/bin/env node
import { runStandalone, s2ucCommand } from './scistream-commands.js';

// The original SciStream's `s2uc` executable: the same command as `pilot-streaming s2uc`.
runStandalone(s2ucCommand());
