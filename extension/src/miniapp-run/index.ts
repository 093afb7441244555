import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { miniAppRunRendererFactory } from './renderer';

/** MIME renderer extension: the live Mini-App run widget (throughput, units, slice, KMeans). */
const miniAppRunExtension: IRenderMime.IExtension = {
  id: '@pilot-streaming/jupyterlab:miniapp-run',
  description: 'Renders the live Mini-App run widget.',
  rendererFactory: miniAppRunRendererFactory,
  rank: 0,
  dataType: 'json'
};

export default miniAppRunExtension;
