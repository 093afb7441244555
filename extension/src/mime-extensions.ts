import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import kafkaLagExtension from './kafka-lag';
import miniAppRunExtension from './miniapp-run';

/** Every MIME renderer of the extension: `jupyterlab.mimeExtension` takes a single module. */
const mimeExtensions: IRenderMime.IExtension[] = [kafkaLagExtension, miniAppRunExtension];

export default mimeExtensions;
