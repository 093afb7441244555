import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import { kafkaLagRendererFactory } from './renderer';

/** MIME renderer extension: the live Kafka consumer-lag widget that `kafkaLag(...)` displays. */
const kafkaLagExtension: IRenderMime.IExtension = {
  id: '@pilot-streaming/jupyterlab:kafka-lag',
  description: 'Renders the live Kafka consumer-lag widget.',
  rendererFactory: kafkaLagRendererFactory,
  rank: 0,
  dataType: 'json'
};

export default kafkaLagExtension;
