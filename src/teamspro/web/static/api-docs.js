// Starts Swagger UI or ReDoc on the page's element: the pages run no inline script.
(function () {
  "use strict";
  var el = document.querySelector("[data-api-docs]");
  if (!el) return;
  if (el.dataset.apiDocs === "swagger") {
    window.SwaggerUIBundle({
      url: el.dataset.spec, dom_id: "#" + el.id, deepLinking: false,
      presets: [window.SwaggerUIBundle.presets.apis], layout: "BaseLayout",
      // The validator badge would ask validator.swagger.io about our document.
      validatorUrl: null,
    });
  } else {
    window.Redoc.init(el.dataset.spec, { hideDownloadButton: false }, el);
  }
})();
