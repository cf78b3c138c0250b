// Runs in each test file's process before the file itself (vitest `setupFiles`): Temporal's
// runtime is installed with quiet logs before any test connects, so failures stay readable.
import { quietRuntime } from './testing.js';

quietRuntime();
