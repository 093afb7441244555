import { LabIcon } from '@jupyterlab/ui-components';

/** A pilot: a stack of nodes with a signal, drawn in the theme's icon colour. */
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24">
  <g class="jp-icon3" fill="#616161">
    <rect x="4" y="13" width="16" height="3" rx="1"/>
    <rect x="4" y="18" width="16" height="3" rx="1"/>
    <path d="M12 3a7 7 0 0 1 7 7h-2a5 5 0 0 0-10 0H5a7 7 0 0 1 7-7zm0 4a3 3 0 0 1 3 3h-2a1 1 0 0 0-2 0H9a3 3 0 0 1 3-3z"/>
  </g>
</svg>`;

export const pilotsIcon = new LabIcon({ name: 'pilot-streaming:pilots', svgstr: svg });
