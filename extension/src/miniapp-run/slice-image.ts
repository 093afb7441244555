import type { IRenderMime } from '@jupyterlab/rendermime-interfaces';
import type { MiniAppSliceView } from '@pilot-streaming/lib/protocol';
import { element } from '../widgets/dom';
import { formatCoordinate } from './format';

/**
 * Only an inline PNG is shown: the renderer is "safe" (it also runs in untrusted notebooks), so
 * the data must not make the browser fetch anything.
 */
export function isPngDataUrl(url: unknown): url is string {
  return typeof url === 'string' && url.startsWith('data:image/png;base64,');
}

/** The latest reconstructed slice and its caption; the image is swapped only when it changed. */
export class SliceImage {
  readonly node = element('figure', 'ps-MiniAppRun-sliceFigure');
  private readonly image = element('img', 'ps-MiniAppRun-slice');
  private readonly caption = element('figcaption', 'ps-MiniAppRun-sliceCaption');

  constructor(private readonly trans: IRenderMime.TranslationBundle) {
    this.image.alt = trans.__('Latest reconstructed slice');
    this.node.append(this.image, this.caption);
    this.node.hidden = true;
  }

  update(slice: MiniAppSliceView | undefined): void {
    if (slice === undefined || !isPngDataUrl(slice.png)) {
      this.node.hidden = true;
      return;
    }
    this.node.hidden = false;
    // Re-decoding the same PNG every second would make the image flicker.
    if (this.image.getAttribute('src') !== slice.png) this.image.src = slice.png;
    this.image.width = slice.width;
    this.image.height = slice.height;
    const data = this.image.dataset;
    data.row = String(slice.row);
    data.producerId = String(slice.producerId);
    data.sequence = String(slice.sequence);
    this.caption.textContent = this.trans.__(
      'Row %1 · %2 · centre %3 · producer %4, message %5',
      slice.row,
      slice.algorithm,
      formatCoordinate(slice.center),
      slice.producerId,
      slice.sequence
    );
  }
}
