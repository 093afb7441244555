import type { JupyterFrontEnd } from '@jupyterlab/application';
import { IFrame, MainAreaWidget } from '@jupyterlab/apputils';
import { URLExt } from '@jupyterlab/coreutils';
import type { TranslationBundle } from '@jupyterlab/translation';
import { dashboardPath, type PilotSummary } from '@pilot-streaming/lib/protocol';

/** The main-area id of a pilot's dashboard: one tab per pilot, found again when reopened. */
function widgetId(pilotId: string): string {
  return `pilot-streaming-dashboard-${pilotId}`;
}

/**
 * Shows a pilot's framework dashboard in a main-area tab. The page comes from the Jupyter
 * server (jupyter-server-proxy's `pilot-dashboards`), which lets only its authenticated users
 * through and reaches the dashboard with the pilot's certificate; so the frame is same-origin
 * and needs scripts (Bokeh's plots) but nothing else.
 */
export function openPilotDashboard(
  app: JupyterFrontEnd,
  pilot: PilotSummary,
  trans: TranslationBundle
): MainAreaWidget<IFrame> {
  const path = dashboardPath(pilot);
  if (path === undefined) {
    throw new Error(trans.__('Pilot %1 (%2) shows no dashboard', pilot.id, pilot.type));
  }
  const id = widgetId(pilot.id);
  for (const widget of app.shell.widgets('main')) {
    if (widget.id === id) {
      app.shell.activateById(id);
      return widget as MainAreaWidget<IFrame>;
    }
  }
  const frame = new IFrame({ sandbox: ['allow-scripts', 'allow-same-origin'] });
  frame.url = URLExt.join(app.serviceManager.serverSettings.baseUrl, path);
  frame.addClass('ps-Dashboard-frame');
  const widget = new MainAreaWidget({ content: frame });
  widget.id = id;
  widget.title.label = trans.__('Dashboard %1', pilot.name ?? pilot.id);
  widget.title.caption = trans.__('The %1 dashboard of pilot %2', pilot.type, pilot.id);
  widget.title.closable = true;
  app.shell.add(widget, 'main');
  app.shell.activateById(id);
  return widget;
}
