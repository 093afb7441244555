export { commandOf, type Installation } from './installation.js';
export { prepareInstallation, type InstallationSettings, type StagingReport } from './stager.js';
