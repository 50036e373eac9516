// The count on the tab's icon: the page's favicon with a red disc and the
// number, drawn on a canvas and set as a data: URL (the pages' img-src
// allows data:), so that a waiting chat shows in a crowded tab strip where
// the title is cut short. Back to the plain icon at zero.

const SIZE = 64;

export class TabBadge {
  constructor() {
    this.link = document.querySelector('link[rel="icon"]');
    this.plain = this.link === null ? null : this.link.getAttribute('href');
    this.image = null;
    this.count = 0;
    this.seq = 0;
  }

  /** Show count on the icon (0: the plain icon). */
  async set(count) {
    if (this.link === null || count === this.count) return;
    this.count = count;
    const seq = ++this.seq;
    if (count === 0) {
      this.link.setAttribute('href', this.plain);
      return;
    }
    const icon = await this.load();
    if (seq !== this.seq) return;
    this.link.setAttribute('href', this.draw(icon, count));
  }

  load() {
    if (this.image === null) {
      this.image = new Promise((resolve) => {
        const img = new Image();
        img.onload = () => resolve(img);
        img.onerror = () => resolve(null);
        img.src = this.plain;
      });
    }
    return this.image;
  }

  draw(icon, count) {
    const canvas = document.createElement('canvas');
    canvas.width = SIZE;
    canvas.height = SIZE;
    const g = canvas.getContext('2d');
    if (icon !== null) g.drawImage(icon, 0, 0, SIZE, SIZE);
    const r = SIZE * 0.3;
    const x = SIZE - r;
    const y = r;
    g.fillStyle = '#dc2626';
    g.beginPath();
    g.arc(x, y, r, 0, 2 * Math.PI);
    g.fill();
    g.fillStyle = '#ffffff';
    g.font = `bold ${Math.round(r * 1.35)}px system-ui, sans-serif`;
    g.textAlign = 'center';
    g.textBaseline = 'middle';
    g.fillText(count > 9 ? '9+' : String(count), x, y + 1);
    return canvas.toDataURL('image/png');
  }
}
