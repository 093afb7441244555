import {
  ILayoutRestorer,
  type JupyterFrontEnd,
  type JupyterFrontEndPlugin
} from '@jupyterlab/application';
import { ICommandPalette } from '@jupyterlab/apputils';
import { ISettingRegistry } from '@jupyterlab/settingregistry';
import { ITranslator, nullTranslator } from '@jupyterlab/translation';
import { dashboardPath } from '@pilot-streaming/lib/protocol';
import { openPilotDashboard } from './dashboards/dashboard-widget';
import { PilotsModel } from './control/pilots-model';
import { pilotsIcon } from './panel/icon';
import { PilotsPanel } from './panel/PilotsPanel';
import { IPilotsModel } from './tokens';

export { IPilotsModel } from './tokens';

const PANEL_ID = 'pilot-streaming-panel';
const OPEN_PANEL_COMMAND = 'pilot-streaming:open-panel';
const OPEN_DASHBOARD_COMMAND = 'pilot-streaming:open-dashboard';

/** Settings defaults; the schema (schema/control.json) says the same. */
const DEFAULT_KERNEL = 'pilot-streaming';
const DEFAULT_SESSION_PATH = '.pilot-streaming-control';

/** The model: one control session of our kernel per JupyterLab, shared by all panels. */
const controlPlugin: JupyterFrontEndPlugin<IPilotsModel> = {
  id: '@pilot-streaming/jupyterlab:control',
  description:
    'Connects to a control session of the Pilot-Streaming kernel and keeps the pilot list.',
  autoStart: true,
  provides: IPilotsModel,
  optional: [ISettingRegistry],
  activate: async (app: JupyterFrontEnd, settings: ISettingRegistry | null) => {
    let kernelName = DEFAULT_KERNEL;
    let sessionPath = DEFAULT_SESSION_PATH;
    if (settings) {
      try {
        const loaded = await settings.load(controlPlugin.id);
        kernelName = loaded.get('kernelName').composite as string;
        sessionPath = loaded.get('sessionPath').composite as string;
      } catch (error) {
        console.warn(`Pilot-Streaming: settings unreadable, using kernel "${kernelName}"`, error);
      }
    }
    const model = new PilotsModel({
      sessions: app.serviceManager.sessions,
      kernelName,
      sessionPath
    });
    model.start();
    return model;
  }
};

/** The "Pilots" side panel and the command that shows it. */
const panelPlugin: JupyterFrontEndPlugin<void> = {
  id: '@pilot-streaming/jupyterlab:panel',
  description: 'The Pilots side panel: list, create and cancel pilots.',
  autoStart: true,
  requires: [IPilotsModel],
  optional: [ILayoutRestorer, ICommandPalette, ITranslator],
  activate: (
    app: JupyterFrontEnd,
    model: IPilotsModel,
    restorer: ILayoutRestorer | null,
    palette: ICommandPalette | null,
    translator: ITranslator | null
  ) => {
    const trans = (translator ?? nullTranslator).load('pilot_streaming');
    const pilotOf = (args: { id?: unknown }) =>
      model.state.pilots.find(pilot => pilot.id === args.id);
    app.commands.addCommand(OPEN_DASHBOARD_COMMAND, {
      label: trans.__('Open Pilot Dashboard'),
      caption: trans.__("Show a Running pilot's framework dashboard in a tab"),
      isEnabled: args => {
        const pilot = pilotOf(args);
        return pilot?.state === 'Running' && dashboardPath(pilot) !== undefined;
      },
      execute: args => {
        const pilot = pilotOf(args);
        if (pilot === undefined) {
          throw new Error(trans.__('No pilot with id "%1" in the panel', String(args.id)));
        }
        return openPilotDashboard(app, pilot, trans);
      }
    });

    const panel = new PilotsPanel(model, {
      openDashboard: id => void app.commands.execute(OPEN_DASHBOARD_COMMAND, { id })
    });
    panel.id = PANEL_ID;
    panel.title.icon = pilotsIcon;
    panel.title.caption = 'Pilots';
    panel.title.label = 'Pilots';
    app.shell.add(panel, 'left', { rank: 600 });
    restorer?.add(panel, PANEL_ID);

    app.commands.addCommand(OPEN_PANEL_COMMAND, {
      label: 'Show Pilots Panel',
      caption: 'Show the Pilot-Streaming side panel',
      execute: () => app.shell.activateById(PANEL_ID)
    });
    palette?.addItem({ command: OPEN_PANEL_COMMAND, category: 'Pilot-Streaming' });
  }
};

export default [controlPlugin, panelPlugin];
