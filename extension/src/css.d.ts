// Style sheets imported for their side effect; the bundler's css loader handles them.
declare module '*.css';
